//! Medicines: the carbon of inhalers from prescribing data (by practice, with a league
//! table) and of anaesthetic gases.

mod gases;
mod inhalers;
pub use gases::*;
pub use inhalers::*;

use crate::kit::Routes;

/// The medicines pages and their CSV downloads.
pub fn routes() -> Routes {
    Routes::new()
        .get("/medicines/inhalers", inhalers)
        .get("/medicines/inhalers.csv", inhalers_csv)
        .get("/medicines/inhalers/league", inhaler_league)
        .get("/medicines/inhalers/practices/{code}", inhaler_practice)
        .get("/medicines/anaesthetic-gases", anaesthetic_gases)
        .get("/medicines/anaesthetic-gases.csv", anaesthetic_gases_csv)
}
