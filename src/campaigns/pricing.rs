//! What a template message costs: Meta's per-message rate card (by category and the
//! recipient's market, known from the number's country code), shipped as `rates.json` and
//! replaceable by the operator (`CX_WHATSAPP_RATES_FILE`); and what Meta actually charged,
//! from the Graph API's pricing analytics.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The rate card shipped with the server.
const SHIPPED: &str = include_str!("rates.json");

#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RateCard {
    /// Where the figures come from.
    pub source: String,
    /// The date the rates took effect.
    pub effective_date: String,
    pub currency: String,
    pub markets: Vec<Market>,
    /// Rates for numbers of any other market.
    pub other: Market,
}

#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Market {
    pub market: String,
    /// Country calling codes of the market's numbers.
    #[serde(default)]
    pub prefixes: Vec<String>,
    pub marketing: f64,
    pub utility: f64,
    pub authentication: f64,
}

impl Market {
    /// The rate of a category (MARKETING, UTILITY, AUTHENTICATION).
    pub fn rate(&self, category: &str) -> f64 {
        match category {
            "MARKETING" => self.marketing,
            "AUTHENTICATION" => self.authentication,
            _ => self.utility,
        }
    }
}

impl RateCard {
    /// The operator's file, or the shipped card. A file that cannot be read is an error at
    /// start, not a silent fallback.
    pub fn load(path: Option<&Path>) -> Result<RateCard, String> {
        let text = match path {
            Some(p) => {
                std::fs::read_to_string(p).map_err(|e| format!("cannot read the rate card {}: {e}", p.display()))?
            }
            None => SHIPPED.to_owned(),
        };
        let card: RateCard = serde_json::from_str(&text).map_err(|e| format!("the rate card is not valid: {e}"))?;
        Ok(card)
    }

    /// The market of a number (E.164 digits): the longest matching country code.
    pub fn market_of(&self, wa_id: &str) -> &Market {
        self.markets
            .iter()
            .flat_map(|m| m.prefixes.iter().map(move |p| (p, m)))
            .filter(|(p, _)| wa_id.starts_with(p.as_str()))
            .max_by_key(|(p, _)| p.len())
            .map_or(&self.other, |(_, m)| m)
    }
}

/// What sending a template to some numbers costs, by market.
#[derive(Serialize, ToSchema, Debug)]
#[serde(rename_all = "camelCase")]
pub struct Estimate {
    pub currency: String,
    pub category: String,
    pub recipients: u64,
    pub total: f64,
    pub by_market: Vec<MarketCost>,
    /// The rate card's date.
    pub rates_effective: String,
}

#[derive(Serialize, ToSchema, Debug)]
#[serde(rename_all = "camelCase")]
pub struct MarketCost {
    pub market: String,
    pub recipients: u64,
    pub rate: f64,
    pub cost: f64,
}

/// The cost of one message of `category` to each of `wa_ids`.
pub fn estimate<'a>(card: &RateCard, category: &str, wa_ids: impl IntoIterator<Item = &'a str>) -> Estimate {
    let mut by: BTreeMap<String, (u64, f64)> = BTreeMap::new();
    let mut n = 0;
    for wa in wa_ids {
        let m = card.market_of(wa);
        let e = by.entry(m.market.clone()).or_insert((0, m.rate(category)));
        e.0 += 1;
        n += 1;
    }
    let by_market: Vec<MarketCost> = by
        .into_iter()
        .map(|(market, (recipients, rate))| MarketCost {
            market,
            recipients,
            rate,
            cost: round(rate * recipients as f64),
        })
        .collect();
    Estimate {
        currency: card.currency.clone(),
        category: category.to_owned(),
        recipients: n,
        total: round(by_market.iter().map(|m| m.cost).sum()),
        by_market,
        rates_effective: card.effective_date.clone(),
    }
}

/// To the hundredth of a cent.
fn round(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_card_loads_and_finds_markets_by_the_longest_code() {
        let card = RateCard::load(None).unwrap();
        assert_eq!(card.market_of("4915112345678").market, "Germany");
        assert_eq!(card.market_of("971501234567").market, "United Arab Emirates");
        assert_eq!(card.market_of("15551234567").market, "North America");
        assert_eq!(card.market_of("8801712345678").market, "Other");
    }

    #[test]
    fn an_estimate_sums_by_market() {
        let card = RateCard::load(None).unwrap();
        let e = estimate(&card, "MARKETING", ["4915112345678", "4915112345679", "919812345678"]);
        assert_eq!(e.recipients, 3);
        let de = e.by_market.iter().find(|m| m.market == "Germany").unwrap();
        assert_eq!(de.recipients, 2);
        assert!((e.total - (2.0 * 0.1365 + 0.0107)).abs() < 1e-9, "{}", e.total);
    }
}
