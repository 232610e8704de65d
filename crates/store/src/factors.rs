//! Factor editions: stored whole, replaced whole. A spend factor set (kgCO2e per £) is an
//! edition too, stored with its price year.

use crate::{Result, Store, corrupt, now};
use greenplan_core::Decimal;
use greenplan_core::category::{NhsCategory, Scope};
use greenplan_core::factor::{Factor, FactorSet, GasParts};
use serde::Serialize;
use sqlx::{Any, Row, Transaction};

/// A loaded edition of conversion factors.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EditionInfo {
    pub name: String,
    pub year: Option<i32>,
    /// A spend factor set's price year (the year whose prices its kgCO2e per £ are in).
    pub price_year: Option<i32>,
    pub source: String,
    pub factor_count: i64,
    pub imported_at: i64,
}

/// Rows per multi-row INSERT: well under both backends' parameter limits.
const FACTOR_BATCH: usize = 400;

impl Store {
    /// Stores an official edition, replacing any edition of the same name, in one transaction.
    pub async fn replace_edition(
        &self,
        name: &str,
        year: Option<i32>,
        source: &str,
        factors: &[Factor],
    ) -> Result<usize> {
        self.replace_edition_with(name, year, None, source, factors)
            .await
    }

    /// Stores a spend factor set (kgCO2e per £) as the edition `name` with its price year,
    /// replacing any edition of that name, in one transaction. It has no `year`: spend lines
    /// name their factor set, the footprint never picks one by period.
    pub async fn replace_spend_factor_set(
        &self,
        name: &str,
        price_year: i32,
        source: &str,
        factors: &[Factor],
    ) -> Result<usize> {
        self.replace_edition_with(name, None, Some(price_year), source, factors)
            .await
    }

    async fn replace_edition_with(
        &self,
        name: &str,
        year: Option<i32>,
        price_year: Option<i32>,
        source: &str,
        factors: &[Factor],
    ) -> Result<usize> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM factors WHERE edition = $1")
            .bind(name)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM factor_editions WHERE name = $1")
            .bind(name)
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO factor_editions (name, year, price_year, source, factor_count, imported_at) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(name)
            .bind(year.map(i64::from))
            .bind(price_year.map(i64::from))
            .bind(source)
            .bind(factors.len() as i64)
            .bind(now())
            .execute(&mut *tx)
            .await?;
        insert_factors(&mut tx, factors).await?;
        crate::bump_revision(&mut tx).await?;
        tx.commit().await?;
        Ok(factors.len())
    }

    /// Adds custom factors to their editions (creating an edition that does not exist yet),
    /// replacing a custom factor with the same edition, activity and unit.
    pub async fn upsert_custom_factors(&self, source: &str, factors: &[Factor]) -> Result<usize> {
        let mut tx = self.begin_write().await?;
        for f in factors {
            let exists: Option<(String,)> =
                sqlx::query_as("SELECT name FROM factor_editions WHERE name = $1")
                    .bind(&f.edition)
                    .fetch_optional(&mut *tx)
                    .await?;
            if exists.is_none() {
                sqlx::query("INSERT INTO factor_editions (name, year, source, factor_count, imported_at) VALUES ($1, $2, $3, 0, $4)")
                    .bind(&f.edition)
                    .bind(year_in_name(&f.edition).map(i64::from))
                    .bind(source)
                    .bind(now())
                    .execute(&mut *tx)
                    .await?;
            }
            sqlx::query(
                "DELETE FROM factors WHERE edition = $1 AND activity = $2 AND unit_text = $3",
            )
            .bind(&f.edition)
            .bind(f.activity.clone())
            .bind(&f.unit_text)
            .execute(&mut *tx)
            .await?;
        }
        insert_factors(&mut tx, factors).await?;
        sqlx::query("UPDATE factor_editions SET factor_count = (SELECT COUNT(*) FROM factors WHERE factors.edition = factor_editions.name)")
            .execute(&mut *tx)
            .await?;
        crate::bump_revision(&mut tx).await?;
        tx.commit().await?;
        Ok(factors.len())
    }

    /// Every stored edition, oldest year first.
    pub async fn editions(&self) -> Result<Vec<EditionInfo>> {
        let rows = sqlx::query("SELECT name, year, price_year, source, factor_count, imported_at FROM factor_editions ORDER BY year, name")
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|r| {
                Ok(EditionInfo {
                    name: r.try_get("name")?,
                    year: r.try_get::<Option<i64>, _>("year")?.map(|y| y as i32),
                    price_year: r.try_get::<Option<i64>, _>("price_year")?.map(|y| y as i32),
                    source: r.try_get("source")?,
                    factor_count: r.try_get("factor_count")?,
                    imported_at: r.try_get("imported_at")?,
                })
            })
            .collect()
    }

    /// `(name, year)` of editions that have a year, for choosing an edition by period.
    pub async fn edition_years(&self) -> Result<Vec<(String, i32)>> {
        Ok(self
            .editions()
            .await?
            .into_iter()
            .filter_map(|e| e.year.map(|y| (e.name, y)))
            .collect())
    }

    /// All stored factors (one edition, or all).
    pub async fn factor_set(&self, edition: Option<&str>) -> Result<FactorSet> {
        let rows = sqlx::query(
            "SELECT edition, scope, levels, column_text, unit_text, kgco2e, kgco2, kgch4, kgn2o, activity, category, source \
             FROM factors WHERE ($1 = '' OR edition = $1) ORDER BY id",
        )
        .bind(edition.unwrap_or(""))
        .fetch_all(self.pool())
        .await?;
        let factors = rows
            .iter()
            .map(factor_from_row)
            .collect::<Result<Vec<_>>>()?;
        Ok(FactorSet::new(factors))
    }
}

fn factor_from_row(r: &sqlx::any::AnyRow) -> Result<Factor> {
    let dec = |col: &str| -> Result<Option<Decimal>> {
        r.try_get::<Option<String>, _>(col)?
            .map(|s| s.parse::<Decimal>().map_err(|e| corrupt("factor", e)))
            .transpose()
    };
    let unit_text: String = r.try_get("unit_text")?;
    let scope: String = r.try_get("scope")?;
    let levels: String = r.try_get("levels")?;
    Ok(Factor {
        edition: r.try_get("edition")?,
        scope: scope
            .parse::<Scope>()
            .map_err(|e| corrupt("factor scope", e))?,
        levels: serde_json::from_str(&levels).map_err(|e| corrupt("factor levels", e))?,
        column_text: r.try_get("column_text")?,
        unit: unit_text.parse().map_err(|e| corrupt("factor unit", e))?,
        unit_text,
        kgco2e: dec("kgco2e")?.unwrap_or_default(),
        gases: GasParts {
            co2: dec("kgco2")?,
            ch4: dec("kgch4")?,
            n2o: dec("kgn2o")?,
        },
        activity: r.try_get("activity")?,
        category: r
            .try_get::<Option<String>, _>("category")?
            .map(|c| {
                c.parse::<NhsCategory>()
                    .map_err(|e| corrupt("factor category", e))
            })
            .transpose()?,
        source: r.try_get("source")?,
    })
}

async fn insert_factors(tx: &mut Transaction<'_, Any>, factors: &[Factor]) -> Result<()> {
    for chunk in factors.chunks(FACTOR_BATCH) {
        let mut sql = String::from(
            "INSERT INTO factors (edition, scope, levels, column_text, unit_text, kgco2e, kgco2, kgch4, kgn2o, activity, category, source) VALUES ",
        );
        for i in 0..chunk.len() {
            let b = i * 12;
            if i > 0 {
                sql.push(',');
            }
            sql.push('(');
            sql.push_str(
                &(1..=12)
                    .map(|k| format!("${}", b + k))
                    .collect::<Vec<_>>()
                    .join(","),
            );
            sql.push(')');
        }
        // Only placeholders are generated here; every value is bound.
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for f in chunk {
            let text = |d: Option<Decimal>| d.map(|d| d.normalize().to_string());
            q = q
                .bind(f.edition.clone())
                .bind(f.scope.label().to_string())
                .bind(serde_json::to_string(&f.levels).map_err(|e| corrupt("factor levels", e))?)
                .bind(f.column_text.clone())
                .bind(f.unit_text.clone())
                .bind(f.kgco2e.normalize().to_string())
                .bind(text(f.gases.co2))
                .bind(text(f.gases.ch4))
                .bind(text(f.gases.n2o))
                .bind(f.activity.clone())
                .bind(f.category.map(|c| c.slug().to_string()))
                .bind(f.source.clone());
        }
        q.execute(&mut **tx).await?;
    }
    Ok(())
}

/// `uk-2023` → 2023: the year an edition's name carries, if any.
fn year_in_name(name: &str) -> Option<i32> {
    let digits: String = name
        .chars()
        .rev()
        .take_while(char::is_ascii_digit)
        .collect();
    let year: String = digits.chars().rev().collect();
    (year.len() == 4).then(|| year.parse().ok()).flatten()
}
