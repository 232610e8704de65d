//! Medicines: inhaler prescribing (EPD summed per month × practice × BNF presentation) and
//! anaesthetic gas returns.
//!
//! A month of prescribing is replaced whole: importing a month again (a corrected file, or
//! the same file twice) leaves that month as the new file says, never doubled. Likewise a
//! trust's month of gas returns. Each replacement is one transaction with its audit entry.

use crate::{Result, Store, StoreError, corrupt, now};
use greenplan_core::Decimal;
use greenplan_core::anaesthetic::{Basis, GasUse, Supply};
use greenplan_core::inhaler::{InhalerProduct, PrescribedQuantity};
use greenplan_core::period::YearMonth;
use greenplan_core::prescribing::{PracticeInfo, Prescribing};
use serde::Serialize;
use sqlx::{Any, Row, Transaction};
use std::collections::BTreeSet;

/// Rows per multi-row INSERT.
const ROWS_PER_INSERT: usize = 1000;

/// `2025-04`: how months are stored (sorts as text).
pub fn month_code(m: YearMonth) -> String {
    format!("{:04}-{:02}", m.year, m.month)
}

fn parse_month(s: &str) -> Result<YearMonth> {
    YearMonth::parse(s).map_err(|e| corrupt("prescribing month", e))
}

/// A stored month of prescribing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PrescribingMonth {
    pub month: YearMonth,
    pub file: String,
    pub icb: Option<String>,
    /// Inhaler lines stored for the month.
    pub lines: i64,
    pub imported_at: i64,
}

/// The multi-row INSERT of `rows` rows into `table (columns)`: `?` on SQLite (numbered
/// placeholders make binding quadratic there, see `activities.rs`), `$n` on PostgreSQL.
fn insert_sql(table: &str, columns: &[&str], rows: usize, sqlite: bool) -> String {
    let mut sql = format!("INSERT INTO {table} ({}) VALUES ", columns.join(", "));
    for r in 0..rows {
        sql.push_str(if r == 0 { "(" } else { ",(" });
        for c in 0..columns.len() {
            if c > 0 {
                sql.push(',');
            }
            if sqlite {
                sql.push('?');
            } else {
                sql.push_str(&format!("${}", r * columns.len() + c + 1));
            }
        }
        sql.push(')');
    }
    sql
}

impl Store {
    fn is_sqlite(&self) -> bool {
        self.backend() == crate::Backend::Sqlite
    }

    /// Replaces every month found in `data` with what `data` holds for it, in one
    /// transaction, and records the import in the audit trail. Returns the months replaced.
    pub async fn replace_prescribing_months(
        &self,
        actor: &str,
        file: &str,
        icb: Option<&str>,
        data: &Prescribing,
    ) -> Result<Vec<YearMonth>> {
        let months = data.months();
        if months.is_empty() {
            return Err(StoreError::Rejected(format!(
                "{file}: no inhaler prescribing was found{}: nothing was stored",
                icb.map(|i| format!(" for ICB {i}")).unwrap_or_default()
            )));
        }
        let sqlite = self.is_sqlite();
        let mut tx = self.begin_write().await?;
        for m in &months {
            let code = month_code(*m);
            let before: Option<(String, i64)> = sqlx::query_as(
                "SELECT file, row_count FROM prescribing_months WHERE year_month = $1",
            )
            .bind(&code)
            .fetch_optional(&mut *tx)
            .await?;
            for table in [
                "prescribing_lines",
                "prescribing_practices",
                "prescribing_months",
            ] {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "DELETE FROM {table} WHERE year_month = $1"
                )))
                .bind(&code)
                .execute(&mut *tx)
                .await?;
            }
            let lines: Vec<_> = data
                .lines
                .iter()
                .filter(|((lm, _, _), _)| lm == m)
                .collect();
            insert_lines(&mut tx, &code, &lines, sqlite).await?;
            let practices: Vec<_> = data
                .practices
                .iter()
                .filter(|((pm, _), _)| pm == m)
                .collect();
            insert_practices(&mut tx, &code, &practices, sqlite).await?;
            sqlx::query("INSERT INTO prescribing_months (year_month, file, icb, row_count, imported_at) VALUES ($1, $2, $3, $4, $5)")
                .bind(&code)
                .bind(file)
                .bind(icb.map(str::to_string))
                .bind(lines.len() as i64)
                .bind(now())
                .execute(&mut *tx)
                .await?;
            let before = before.map(|(f, n)| serde_json::json!({"file": f, "lines": n}));
            let after = serde_json::json!({"file": file, "icb": icb, "lines": lines.len(), "practices": practices.len()});
            crate::audit::record(
                &mut tx,
                actor,
                if before.is_some() {
                    "replace"
                } else {
                    "import"
                },
                "prescribing-month",
                &code,
                None,
                before.as_ref(),
                Some(&after),
            )
            .await?;
        }
        for (code, description) in &data.descriptions {
            sqlx::query("INSERT INTO bnf_descriptions (bnf_code, description) VALUES ($1, $2) ON CONFLICT (bnf_code) DO UPDATE SET description = excluded.description")
                .bind(code)
                .bind(description)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(months)
    }

    /// The stored months, oldest first.
    pub async fn prescribing_months(&self) -> Result<Vec<PrescribingMonth>> {
        let rows = sqlx::query("SELECT year_month, file, icb, row_count, imported_at FROM prescribing_months ORDER BY year_month")
            .fetch_all(self.pool())
            .await?;
        let decoded = rows
            .iter()
            .map(|r| {
                let key = r.try_get::<String, _>("year_month").unwrap_or_default();
                (
                    key,
                    (|| -> Result<PrescribingMonth> {
                        Ok(PrescribingMonth {
                            month: parse_month(&r.try_get::<String, _>("year_month")?)?,
                            file: r.try_get("file")?,
                            icb: r.try_get("icb")?,
                            lines: r.try_get("row_count")?,
                            imported_at: r.try_get("imported_at")?,
                        })
                    })(),
                )
            })
            .collect::<Vec<_>>();
        self.keep_all("prescribing_months", decoded)
    }

    /// The stored prescribing of the months from `from` to `to` (all when `None`).
    pub async fn load_prescribing(
        &self,
        from: Option<YearMonth>,
        to: Option<YearMonth>,
    ) -> Result<Prescribing> {
        self.load_prescribing_of(from, to, None).await
    }

    /// The stored prescribing of one ICB's practices (what the plan's figures need, without
    /// loading a whole country's months).
    pub async fn load_icb_prescribing(&self, icb: &str) -> Result<Prescribing> {
        self.load_prescribing_of(None, None, Some(icb)).await
    }

    async fn load_prescribing_of(
        &self,
        from: Option<YearMonth>,
        to: Option<YearMonth>,
        icb: Option<&str>,
    ) -> Result<Prescribing> {
        let from = from.map_or_else(|| "0000-00".to_string(), month_code);
        let to = to.map_or_else(|| "9999-99".to_string(), month_code);
        let icb = icb.unwrap_or_default();
        let mut p = Prescribing::default();
        let rows = sqlx::query(
            "SELECT l.year_month, l.practice, l.bnf_code, l.items, l.as_inhalers, l.as_doses FROM prescribing_lines l \
             JOIN prescribing_practices p ON p.year_month = l.year_month AND p.practice = l.practice \
             WHERE l.year_month >= $1 AND l.year_month <= $2 AND ($3 = '' OR p.icb_code = $3)",
        )
        .bind(&from)
        .bind(&to)
        .bind(icb)
        .fetch_all(self.pool())
        .await?;
        for r in &rows {
            let dec = |c: &str| -> Result<Decimal> {
                r.try_get::<String, _>(c)?
                    .parse()
                    .map_err(|e| corrupt("prescribing quantity", e))
            };
            p.lines.insert(
                (
                    parse_month(&r.try_get::<String, _>("year_month")?)?,
                    r.try_get("practice")?,
                    r.try_get("bnf_code")?,
                ),
                PrescribedQuantity {
                    items: r.try_get("items")?,
                    as_inhalers: dec("as_inhalers")?,
                    as_doses: dec("as_doses")?,
                },
            );
        }
        let rows = sqlx::query("SELECT year_month, practice, name, sub_icb_code, sub_icb_name, icb_code, icb_name FROM prescribing_practices WHERE year_month >= $1 AND year_month <= $2 AND ($3 = '' OR icb_code = $3)")
            .bind(&from)
            .bind(&to)
            .bind(icb)
            .fetch_all(self.pool())
            .await?;
        for r in &rows {
            p.practices.insert(
                (
                    parse_month(&r.try_get::<String, _>("year_month")?)?,
                    r.try_get("practice")?,
                ),
                PracticeInfo {
                    name: r.try_get("name")?,
                    sub_icb_code: r.try_get("sub_icb_code")?,
                    sub_icb_name: r.try_get("sub_icb_name")?,
                    icb_code: r.try_get("icb_code")?,
                    icb_name: r.try_get("icb_name")?,
                },
            );
        }
        let codes: BTreeSet<&String> = p.lines.keys().map(|(_, _, c)| c).collect();
        if !codes.is_empty() {
            let rows = sqlx::query("SELECT bnf_code, description FROM bnf_descriptions")
                .fetch_all(self.pool())
                .await?;
            for r in &rows {
                let code: String = r.try_get("bnf_code")?;
                if codes.contains(&code) {
                    p.descriptions.insert(code, r.try_get("description")?);
                }
            }
        }
        Ok(p)
    }

    /// Replaces each (trust, month) found in `uses` with the returned lines, in one
    /// transaction with an audit entry per trust-month. `uses` carry their file row numbers.
    pub async fn replace_gas_returns(
        &self,
        actor: &str,
        file: &str,
        uses: &[(u64, GasUse)],
    ) -> Result<usize> {
        let keys: BTreeSet<(String, YearMonth)> = uses
            .iter()
            .map(|(_, u)| (u.organisation.clone(), u.month))
            .collect();
        if keys.is_empty() {
            return Err(StoreError::Rejected(format!(
                "{file}: the file has no data rows: nothing was stored"
            )));
        }
        let mut tx = self.begin_write().await?;
        for (org, month) in &keys {
            let code = month_code(*month);
            let removed = sqlx::query(
                "DELETE FROM anaesthetic_gas_uses WHERE organisation = $1 AND year_month = $2",
            )
            .bind(org)
            .bind(&code)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            let lines: Vec<&(u64, GasUse)> = uses
                .iter()
                .filter(|(_, u)| &u.organisation == org && u.month == *month)
                .collect();
            for (row, u) in &lines {
                sqlx::query("INSERT INTO anaesthetic_gas_uses (organisation, year_month, agent, quantity, unit, supply, basis, file, row_number) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
                    .bind(org)
                    .bind(&code)
                    .bind(u.agent.slug())
                    .bind(u.quantity.normalize().to_string())
                    .bind(u.unit.to_string())
                    .bind(u.supply.map(|s| supply_slug(s).to_string()))
                    .bind(basis_slug(u.basis))
                    .bind(file)
                    .bind(*row as i64)
                    .execute(&mut *tx)
                    .await?;
            }
            let before = (removed > 0).then(|| serde_json::json!({"lines": removed}));
            let after = serde_json::json!({"file": file, "lines": lines.len()});
            crate::audit::record(
                &mut tx,
                actor,
                if removed > 0 { "replace" } else { "import" },
                "anaesthetic-gas-return",
                &format!("{org}:{code}"),
                Some(org),
                before.as_ref(),
                Some(&after),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(keys.len())
    }

    /// Stored gas returns (of one trust, or all), by trust and month.
    pub async fn gas_returns(&self, organisation: Option<&str>) -> Result<Vec<GasUse>> {
        let rows = sqlx::query("SELECT id, organisation, year_month, agent, quantity, unit, supply, basis FROM anaesthetic_gas_uses WHERE ($1 = '' OR organisation = $1) ORDER BY organisation, year_month, id")
            .bind(organisation.unwrap_or(""))
            .fetch_all(self.pool())
            .await?;
        let decoded = rows
            .iter()
            .map(|r| {
                let text = |c: &str| -> Result<String> { Ok(r.try_get::<String, _>(c)?) };
                let key = r.try_get::<i64, _>("id").unwrap_or_default();
                (
                    key.to_string(),
                    (|| -> Result<GasUse> {
                        Ok(GasUse {
                            organisation: text("organisation")?,
                            month: parse_month(&text("year_month")?)?,
                            agent: text("agent")?
                                .parse()
                                .map_err(|e| corrupt("gas agent", e))?,
                            quantity: text("quantity")?
                                .parse()
                                .map_err(|e| corrupt("gas quantity", e))?,
                            unit: text("unit")?.parse().map_err(|e| corrupt("gas unit", e))?,
                            supply: match r.try_get::<Option<String>, _>("supply")?.as_deref() {
                                Some("piped") => Some(Supply::Piped),
                                Some("portable") => Some(Supply::Portable),
                                _ => None,
                            },
                            basis: if text("basis")? == "clinical-use" {
                                Basis::ClinicalUse
                            } else {
                                Basis::Purchased
                            },
                        })
                    })(),
                )
            })
            .collect::<Vec<_>>();
        self.keep_all("anaesthetic_gas_uses", decoded)
    }

    /// Replaces the ICS's own inhaler product figures with `products` (from `file`), in one
    /// transaction with an audit entry holding how many rows there were before and after.
    pub async fn replace_inhaler_products(
        &self,
        actor: &str,
        file: &str,
        products: &[InhalerProduct],
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let before = sqlx::query("DELETE FROM inhaler_products")
            .execute(&mut *tx)
            .await?
            .rows_affected();
        let at = now();
        for p in products {
            sqlx::query("INSERT INTO inhaler_products (bnf_code, description, device, propellant, kgco2e_per_inhaler, doses_per_inhaler, source, class_default, file, imported_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)")
                .bind(&p.bnf_code)
                .bind(&p.description)
                .bind(p.device.to_string())
                .bind(p.propellant.as_deref())
                .bind(p.kgco2e_per_inhaler.normalize().to_string())
                .bind(p.doses_per_inhaler.map(|d| d.normalize().to_string()))
                .bind(&p.source)
                .bind(i64::from(p.class_default))
                .bind(file)
                .bind(at)
                .execute(&mut *tx)
                .await?;
        }
        crate::audit::record(
            &mut tx,
            actor,
            "replace",
            "inhaler-products",
            "local",
            None,
            Some(&serde_json::json!({ "products": before })),
            Some(&serde_json::json!({ "file": file, "products": products.len() })),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The ICS's own inhaler product figures (none until a file is imported).
    pub async fn inhaler_products(&self) -> Result<Vec<InhalerProduct>> {
        let rows = sqlx::query("SELECT bnf_code, description, device, propellant, kgco2e_per_inhaler, doses_per_inhaler, source, class_default FROM inhaler_products ORDER BY bnf_code")
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|r| {
                let decimal = |text: String| -> Result<Decimal> {
                    text.parse()
                        .map_err(|e| corrupt("inhaler product figure", e))
                };
                Ok(InhalerProduct {
                    bnf_code: r.try_get("bnf_code")?,
                    description: r.try_get("description")?,
                    device: r
                        .try_get::<String, _>("device")?
                        .parse()
                        .map_err(|e| corrupt("inhaler device", e))?,
                    propellant: r.try_get("propellant")?,
                    kgco2e_per_inhaler: decimal(r.try_get("kgco2e_per_inhaler")?)?,
                    doses_per_inhaler: r
                        .try_get::<Option<String>, _>("doses_per_inhaler")?
                        .map(decimal)
                        .transpose()?,
                    source: r.try_get("source")?,
                    class_default: r.try_get::<i64, _>("class_default")? != 0,
                })
            })
            .collect()
    }

    /// Replaces the values of `metric` that came from `origin` (e.g. `prescribing`) with
    /// `values`, in one transaction with its audit entry: figures derived from data are
    /// recomputed, not appended.
    pub async fn replace_derived_metric_values(
        &self,
        actor: &str,
        metric: &str,
        origin: &str,
        values: &[crate::MetricValue],
    ) -> Result<()> {
        let known: Option<(String,)> = sqlx::query_as("SELECT id FROM metrics WHERE id = $1")
            .bind(metric)
            .fetch_optional(self.pool())
            .await?;
        if known.is_none() {
            return Ok(());
        }
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM metric_values WHERE metric = $1 AND origin = $2")
            .bind(metric)
            .bind(origin)
            .execute(&mut *tx)
            .await?;
        for v in values {
            crate::plan::insert_value(&mut tx, v).await?;
        }
        let after = serde_json::to_value(values).map_err(|e| corrupt("metric values", e))?;
        crate::audit::record(
            &mut tx,
            actor,
            "recompute-values",
            "metric",
            metric,
            None,
            None,
            Some(&after),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

fn supply_slug(s: Supply) -> &'static str {
    match s {
        Supply::Piped => "piped",
        Supply::Portable => "portable",
    }
}

fn basis_slug(b: Basis) -> &'static str {
    match b {
        Basis::Purchased => "purchased",
        Basis::ClinicalUse => "clinical-use",
    }
}

async fn insert_lines(
    tx: &mut Transaction<'static, Any>,
    month: &str,
    lines: &[(&(YearMonth, String, String), &PrescribedQuantity)],
    sqlite: bool,
) -> Result<()> {
    const COLUMNS: &[&str] = &[
        "year_month",
        "practice",
        "bnf_code",
        "items",
        "as_inhalers",
        "as_doses",
    ];
    for chunk in lines.chunks(ROWS_PER_INSERT) {
        let sql = insert_sql("prescribing_lines", COLUMNS, chunk.len(), sqlite);
        // Only placeholders are generated; every value is bound.
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for ((_, practice, code), quantity) in chunk {
            q = q
                .bind(month)
                .bind(practice.as_str())
                .bind(code.as_str())
                .bind(quantity.items)
                .bind(quantity.as_inhalers.normalize().to_string())
                .bind(quantity.as_doses.normalize().to_string());
        }
        q.execute(&mut **tx).await?;
    }
    Ok(())
}

async fn insert_practices(
    tx: &mut Transaction<'static, Any>,
    month: &str,
    practices: &[(&(YearMonth, String), &PracticeInfo)],
    sqlite: bool,
) -> Result<()> {
    const COLUMNS: &[&str] = &[
        "year_month",
        "practice",
        "name",
        "sub_icb_code",
        "sub_icb_name",
        "icb_code",
        "icb_name",
    ];
    for chunk in practices.chunks(ROWS_PER_INSERT) {
        let sql = insert_sql("prescribing_practices", COLUMNS, chunk.len(), sqlite);
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for ((_, practice), info) in chunk {
            q = q
                .bind(month)
                .bind(practice.as_str())
                .bind(info.name.as_str())
                .bind(info.sub_icb_code.as_str())
                .bind(info.sub_icb_name.as_str())
                .bind(info.icb_code.as_str())
                .bind(info.icb_name.as_str());
        }
        q.execute(&mut **tx).await?;
    }
    Ok(())
}
