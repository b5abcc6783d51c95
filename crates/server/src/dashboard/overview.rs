//! `/`: the overview. Headline numbers (calls today and over the period, live calls,
//! failed and pending deliveries, delivery success) and four charts over the last
//! [`DAYS`] UTC days: calls per day, call types, delivery success rate, attempt latency
//! (p50 and p95). The points come from the store ([`frontdesk_store::Reports`]), the
//! figures from [`frontdesk_core::report::summarize`]; this module only lays them out as
//! inline SVG (scaled by its `viewBox`, labelled with text, each chart's numbers also in
//! a table). A workspace without calls gets a first-call guide instead of the charts.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::IntoResponse;
use axum::routing::get;
use chrono::{NaiveDate, Utc};
use frontdesk_core::call::CallFilter;
use frontdesk_core::page::PageRequest;
use frontdesk_core::report::{ACTIVITY_LIMIT, Day, Summary, TypeCount, period_start, summarize};

use super::{Chrome, PageResult, Signed, render};
use crate::state::{AppState, SettingsState, StoreState};
use crate::telephony::request::public_base;

/// Days the overview covers, today included.
pub const DAYS: u32 = 14;

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/", get(page))
}

#[derive(Template)]
#[template(path = "overview.html")]
struct OverviewPage {
    chrome: Chrome,
    /// Whether the workspace has any call at all (else: the first-call guide).
    has_calls: bool,
    /// The guide's commands (empty when there are calls).
    first_call: String,
    /// The guide's number, when the workspace has one.
    number: Option<String>,
    stats: Stats,
    /// "Mar 1 – Mar 14".
    period: String,
    truncated: bool,
    /// The most calls (and attempts) counted, as shown: "100,000".
    limit: String,
    calls: ColumnChart,
    types: TypeChart,
    success: ColumnChart,
    latency: LineChart,
    rows: Vec<DayRow>,
}

/// The headline numbers, as shown.
struct Stats {
    calls_today: u64,
    calls: u64,
    live_calls: u64,
    failed_deliveries: u64,
    pending_deliveries: u64,
    /// "97.5%", or empty without attempts.
    success: String,
    attempts: u64,
    succeeded: u64,
    /// "120 ms", or empty without attempts.
    p50: String,
    p95: String,
}

async fn page(
    State(store): StoreState,
    State(settings): SettingsState,
    headers: HeaderMap,
    signed: Signed,
) -> PageResult {
    let today = Utc::now().date_naive();
    let activity = store.activity(&signed.workspace_id, period_start(today, DAYS)).await?;
    let summary = summarize(&activity, today, DAYS);
    let has_calls = !activity.calls.is_empty()
        || activity.live_calls > 0
        || !store
            .list_calls(&signed.workspace_id, &CallFilter::default(), &PageRequest::first(1))
            .await?
            .data
            .is_empty();
    let (first_call, number) = if has_calls {
        (String::new(), None)
    } else {
        let number = store
            .list_numbers(&signed.workspace_id)
            .await?
            .into_iter()
            .next()
            .map(|n| n.number);
        let base = public_base(&settings, &headers);
        let commands = first_call_commands(&base, number.as_deref(), &spare_number(signed.workspace_id.as_str()));
        (commands, number)
    };
    let page = OverviewPage {
        chrome: Chrome::new(&signed, "overview"),
        has_calls,
        first_call,
        number,
        stats: Stats {
            calls_today: summary.calls_today,
            calls: summary.calls,
            live_calls: activity.live_calls,
            failed_deliveries: activity.failed_deliveries,
            pending_deliveries: activity.pending_deliveries,
            success: summary.success_rate().map(percent).unwrap_or_default(),
            attempts: summary.attempts,
            succeeded: summary.succeeded,
            p50: summary.p50_ms.map(millis).unwrap_or_default(),
            p95: summary.p95_ms.map(millis).unwrap_or_default(),
        },
        period: period(&summary),
        truncated: activity.truncated,
        limit: thousands(u64::from(ACTIVITY_LIMIT)),
        calls: calls_chart(&summary.days),
        types: type_chart(&summary.call_types),
        success: success_chart(&summary.days),
        latency: latency_chart(&summary.days),
        rows: summary.days.iter().map(DayRow::of).collect(),
    };
    Ok(render(&page)?.into_response())
}

/// A number for the guide to add when the workspace has none: numbers are unique
/// across workspaces, so each workspace gets its own (+1 555 and seven digits from its
/// id), the same on every visit.
fn spare_number(seed: &str) -> String {
    // FNV-1a: stable across builds and platforms.
    let hash = seed.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("+1555{:07}", hash % 10_000_000)
}

/// The first-call guide: `curl` against the simulator API, with an agent and the number
/// `spare` first when the workspace has no number yet.
fn first_call_commands(base: &str, number: Option<&str>, spare: &str) -> String {
    let auth = "-H \"Authorization: Bearer YOUR_KEY\"";
    let json = "-H \"Content-Type: application/json\"";
    let post = |path: &str, body: &str| -> String {
        if body.is_empty() {
            format!("curl -X POST {base}{path} \\\n  {auth}\n")
        } else {
            format!("curl -X POST {base}{path} \\\n  {auth} {json} \\\n  -d '{body}'\n")
        }
    };
    let mut out = String::new();
    let to = match number {
        Some(n) => n.to_owned(),
        None => {
            let n = spare;
            out.push_str("# 1. An agent to answer (edit it later on the Agents page)\n");
            out.push_str(&post("/v1/agents", r#"{"name": "Front desk"}"#));
            out.push_str("\n# 2. A simulated number for it (AGENT_ID: the \"id\" the last command printed)\n");
            out.push_str(&post(
                "/v1/numbers",
                &format!(r#"{{"number": "{n}", "agent_id": "AGENT_ID", "provider": "sim"}}"#),
            ));
            out.push('\n');
            n.to_owned()
        }
    };
    let step = |i: u32| if number.is_some() { i - 2 } else { i };
    out.push_str(&format!("# {}. Call it\n", step(3)));
    out.push_str(&post(
        "/v1/sim/calls",
        &format!(r#"{{"from": "+15551234567", "to": "{to}"}}"#),
    ));
    out.push_str(&format!(
        "\n# {}. Talk (CALL_ID: the \"call_id\" the last command printed), then hang up\n",
        step(4)
    ));
    out.push_str(&post(
        "/v1/sim/calls/CALL_ID/turns",
        r#"{"text": "Hi, I would like a quote for a kitchen remodel."}"#,
    ));
    out.push_str(&post("/v1/sim/calls/CALL_ID/hangup", ""));
    out
}

// ---- Layout. Every chart is 360 units wide (its viewBox), so at a phone's width its
// text is about the size of the page's small print, and it scales up on wider screens.

const LEFT: f64 = 40.0;
const RIGHT: f64 = 352.0;
const TOP: f64 = 22.0;
const BOTTOM: f64 = 160.0;

/// A coordinate as written in the SVG.
fn c(v: f64) -> String {
    format!("{v:.1}")
}

/// A rate (0 to 1) as "97.5%" ("100%" and "0%" whole).
fn percent(rate: f64) -> String {
    let tenths = (rate * 1000.0).round();
    if tenths % 10.0 == 0.0 {
        format!("{:.0}%", tenths / 10.0)
    } else {
        format!("{:.1}%", tenths / 10.0)
    }
}

/// 100000 as "100,000".
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

fn millis(ms: u32) -> String {
    format!("{ms} ms")
}

fn day_text(d: NaiveDate) -> String {
    d.format("%b %-d").to_string()
}

fn period(s: &Summary) -> String {
    match (s.days.first(), s.days.last()) {
        (Some(a), Some(b)) => format!("{} – {}", day_text(a.date), day_text(b.date)),
        _ => String::new(),
    }
}

/// The top of a count axis: twice a round step (1, 2, 5, 10, 20, ...) so that the
/// middle tick is whole too.
fn axis_top(max: u64) -> u64 {
    let half = max.div_ceil(2).max(1);
    let mut unit = 1u64;
    loop {
        for m in [1, 2, 5] {
            if unit * m >= half {
                return unit * m * 2;
            }
        }
        unit = unit.saturating_mul(10);
    }
}

/// The y of `v` on an axis from 0 to `top`.
fn y_of(v: f64, top: f64) -> f64 {
    if top <= 0.0 {
        return BOTTOM;
    }
    BOTTOM - (v / top).clamp(0.0, 1.0) * (BOTTOM - TOP)
}

/// A horizontal grid line with its label.
pub struct Tick {
    pub y: String,
    /// Where the label's baseline sits (just below the line's level).
    pub ty: String,
    pub label: String,
}

fn ticks(top: f64, label: impl Fn(f64) -> String) -> Vec<Tick> {
    [0.0, top / 2.0, top]
        .into_iter()
        .map(|v| {
            let y = y_of(v, top);
            Tick {
                y: c(y),
                ty: c(y + 3.5),
                label: label(v),
            }
        })
        .collect()
}

/// One day's slot on the x axis: its centre and its label (the day of the month).
pub struct Slot {
    pub x: String,
    pub label: String,
}

fn slot_width(n: usize) -> f64 {
    (RIGHT - LEFT) / n.max(1) as f64
}

fn slots(days: &[Day]) -> Vec<Slot> {
    let w = slot_width(days.len());
    days.iter()
        .enumerate()
        .map(|(i, d)| Slot {
            x: c(LEFT + w * (i as f64 + 0.5)),
            label: d.date.format("%-d").to_string(),
        })
        .collect()
}

/// A bar of a column chart.
pub struct Column {
    pub x: String,
    pub y: String,
    pub w: String,
    pub h: String,
    /// The bar's centre, for its value label.
    pub cx: String,
    /// The label above the bar (empty: none).
    pub value: String,
    pub vy: String,
    /// What a pointer over the bar shows.
    pub title: String,
}

pub struct ColumnChart {
    pub ticks: Vec<Tick>,
    pub columns: Vec<Column>,
    pub slots: Vec<Slot>,
    /// The chart's one-sentence summary (its SVG title).
    pub summary: String,
}

/// Columns for one value per day (`None`: no bar, and `empty` as its label).
fn columns(days: &[Day], top: f64, value: impl Fn(&Day) -> Option<(f64, String, String)>) -> Vec<Column> {
    let w = slot_width(days.len());
    days.iter()
        .enumerate()
        .map(|(i, d)| {
            let x = LEFT + w * i as f64 + w * 0.15;
            let cx = LEFT + w * (i as f64 + 0.5);
            match value(d) {
                Some((v, label, title)) => {
                    let y = y_of(v, top);
                    Column {
                        x: c(x),
                        y: c(y),
                        w: c(w * 0.7),
                        h: c(BOTTOM - y),
                        cx: c(cx),
                        value: label,
                        vy: c(y - 3.0),
                        title,
                    }
                }
                None => Column {
                    x: c(x),
                    y: c(BOTTOM),
                    w: c(w * 0.7),
                    h: c(0.0),
                    cx: c(cx),
                    value: String::new(),
                    vy: c(BOTTOM - 3.0),
                    title: format!("{}: no attempts", day_text(d.date)),
                },
            }
        })
        .collect()
}

fn calls_chart(days: &[Day]) -> ColumnChart {
    let max = days.iter().map(|d| d.calls).max().unwrap_or(0);
    let top = axis_top(max) as f64;
    let total: u64 = days.iter().map(|d| d.calls).sum();
    let busiest = days.iter().filter(|d| d.calls > 0).max_by_key(|d| (d.calls, d.date));
    let summary = match busiest {
        Some(b) => format!(
            "{total} over {} days, most on {} ({})",
            days.len(),
            day_text(b.date),
            b.calls
        ),
        None => format!("none over {} days", days.len()),
    };
    ColumnChart {
        ticks: ticks(top, |v| format!("{v:.0}")),
        columns: columns(days, top, |d| {
            let v = d.calls as f64;
            let label = if d.calls > 0 {
                d.calls.to_string()
            } else {
                String::new()
            };
            Some((v, label, format!("{}: {} calls", day_text(d.date), d.calls)))
        }),
        slots: slots(days),
        summary,
    }
}

fn success_chart(days: &[Day]) -> ColumnChart {
    let tried: Vec<&Day> = days.iter().filter(|d| d.attempts > 0).collect();
    let attempts: u64 = tried.iter().map(|d| d.attempts).sum();
    let succeeded: u64 = tried.iter().map(|d| d.succeeded).sum();
    let summary = if attempts == 0 {
        format!("no attempts over {} days", days.len())
    } else {
        let rate = succeeded as f64 / attempts as f64;
        let worst = tried
            .iter()
            .filter_map(|d| d.success_rate().map(|r| (r, d.date)))
            .min_by(|a, b| a.0.total_cmp(&b.0));
        let worst = worst.map_or(String::new(), |(r, d)| {
            format!(", lowest {} on {}", percent(r), day_text(d))
        });
        format!(
            "{} of {attempts} attempts succeeded ({}){worst}",
            succeeded,
            percent(rate)
        )
    };
    ColumnChart {
        ticks: ticks(1.0, percent),
        columns: columns(days, 1.0, |d| {
            d.success_rate().map(|r| {
                (
                    r,
                    format!("{:.0}%", r * 100.0),
                    format!(
                        "{}: {} of {} attempts succeeded ({})",
                        day_text(d.date),
                        d.succeeded,
                        d.attempts,
                        percent(r)
                    ),
                )
            })
        }),
        slots: slots(days),
        summary,
    }
}

/// A row of the call types chart.
pub struct TypeBar {
    /// The name shown beside the bar (shortened when long).
    pub label: String,
    /// The whole name.
    pub name: String,
    pub calls: u64,
    pub share: String,
    /// The row's text baseline and the bar's top.
    pub ty: String,
    pub by: String,
    pub w: String,
    /// Where the value label starts (after the bar).
    pub vx: String,
}

pub struct TypeChart {
    pub bars: Vec<TypeBar>,
    pub height: String,
    pub summary: String,
}

/// Rows the chart shows; the rest are summed into one "other types" row.
const MAX_TYPES: usize = 8;
const TYPE_ROW: f64 = 26.0;
const TYPE_BAR_X: f64 = 124.0;
const TYPE_BAR_MAX: f64 = 150.0;

fn type_name(t: &TypeCount) -> String {
    t.call_type.clone().unwrap_or_else(|| "(no type)".to_owned())
}

fn type_chart(types: &[TypeCount]) -> TypeChart {
    let mut rows: Vec<(String, u64, f64)> = types
        .iter()
        .take(MAX_TYPES)
        .map(|t| (type_name(t), t.calls, t.share))
        .collect();
    if types.len() > MAX_TYPES {
        let rest = &types[MAX_TYPES..];
        rows.push((
            format!("{} other types", rest.len()),
            rest.iter().map(|t| t.calls).sum(),
            rest.iter().map(|t| t.share).sum(),
        ));
    }
    let most = rows.iter().map(|r| r.1).max().unwrap_or(0).max(1);
    let bars = rows
        .into_iter()
        .enumerate()
        .map(|(i, (name, calls, share))| {
            let top = 8.0 + TYPE_ROW * i as f64;
            let w = (TYPE_BAR_MAX * calls as f64 / most as f64).max(1.0);
            let label = if name.chars().count() > 18 {
                format!("{}…", name.chars().take(17).collect::<String>())
            } else {
                name.clone()
            };
            TypeBar {
                label,
                name,
                calls,
                share: percent(share),
                ty: c(top + 14.0),
                by: c(top + 3.0),
                w: c(w),
                vx: c(TYPE_BAR_X + w + 4.0),
            }
        })
        .collect::<Vec<_>>();
    let summary = match bars.first() {
        Some(b) => format!(
            "{} types, the most common {} ({} calls, {})",
            types.len(),
            b.name,
            b.calls,
            b.share
        ),
        None => "no calls".to_owned(),
    };
    TypeChart {
        height: c(16.0 + TYPE_ROW * bars.len().max(1) as f64),
        bars,
        summary,
    }
}

/// A point of a line.
pub struct Mark {
    pub x: String,
    pub y: String,
    pub title: String,
}

/// One series: its unbroken runs (`x,y x,y ...`, a day without attempts breaks the
/// line) and its points.
pub struct Series {
    pub runs: Vec<String>,
    pub marks: Vec<Mark>,
}

pub struct LineChart {
    pub ticks: Vec<Tick>,
    pub slots: Vec<Slot>,
    pub p50: Series,
    pub p95: Series,
    /// The latest day with attempts: "Mar 14: p50 120 ms, p95 310 ms".
    pub latest: String,
    pub summary: String,
}

fn series(days: &[Day], top: f64, name: &str, pick: impl Fn(&Day) -> Option<u32>) -> Series {
    let w = slot_width(days.len());
    let mut runs = Vec::new();
    let mut run: Vec<String> = Vec::new();
    let mut marks = Vec::new();
    for (i, d) in days.iter().enumerate() {
        match pick(d) {
            Some(v) => {
                let x = c(LEFT + w * (i as f64 + 0.5));
                let y = c(y_of(f64::from(v), top));
                run.push(format!("{x},{y}"));
                marks.push(Mark {
                    x,
                    y,
                    title: format!("{}: {name} {}", day_text(d.date), millis(v)),
                });
            }
            None if !run.is_empty() => runs.push(std::mem::take(&mut run).join(" ")),
            None => {}
        }
    }
    if !run.is_empty() {
        runs.push(run.join(" "));
    }
    Series { runs, marks }
}

fn latency_chart(days: &[Day]) -> LineChart {
    let max = days.iter().filter_map(|d| d.p95_ms).max().unwrap_or(0);
    let top = axis_top(u64::from(max)) as f64;
    let latest = days
        .iter()
        .rev()
        .find_map(|d| Some((d.date, d.p50_ms?, d.p95_ms?)))
        .map_or(String::new(), |(date, p50, p95)| {
            format!("{}: p50 {}, p95 {}", day_text(date), millis(p50), millis(p95))
        });
    let summary = if latest.is_empty() {
        format!("no attempts over {} days", days.len())
    } else {
        format!("highest p95 {}; latest {latest}", millis(max))
    };
    LineChart {
        ticks: ticks(top, |v| format!("{v:.0}")),
        slots: slots(days),
        p50: series(days, top, "p50", |d| d.p50_ms),
        p95: series(days, top, "p95", |d| d.p95_ms),
        latest,
        summary,
    }
}

/// One day in the charts' tables.
pub struct DayRow {
    pub label: String,
    pub calls: u64,
    pub attempts: u64,
    pub succeeded: u64,
    /// Empty without attempts.
    pub rate: String,
    pub p50: String,
    pub p95: String,
}

impl DayRow {
    fn of(d: &Day) -> Self {
        Self {
            label: day_text(d.date),
            calls: d.calls,
            attempts: d.attempts,
            succeeded: d.succeeded,
            rate: d.success_rate().map(percent).unwrap_or_default(),
            p50: d.p50_ms.map(millis).unwrap_or_default(),
            p95: d.p95_ms.map(millis).unwrap_or_default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axis_tops_are_round_and_halve_whole() {
        let tops: Vec<u64> = [0, 1, 2, 3, 4, 5, 7, 11, 19, 20, 21, 180, 999]
            .into_iter()
            .map(axis_top)
            .collect();
        assert_eq!(tops, vec![2, 2, 2, 4, 4, 10, 10, 20, 20, 20, 40, 200, 1000]);
    }

    #[test]
    fn percents_drop_a_whole_tenth() {
        assert_eq!(percent(1.0), "100%");
        assert_eq!(percent(0.0), "0%");
        assert_eq!(percent(0.875), "87.5%");
        assert_eq!(percent(2.0 / 3.0), "66.7%");
        assert_eq!(thousands(100_000), "100,000");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }

    #[test]
    fn a_day_without_attempts_breaks_the_line() {
        let day = |d: u32, p: Option<u32>| Day {
            date: NaiveDate::from_ymd_opt(2026, 3, d).expect("date"),
            calls: 0,
            attempts: u64::from(p.is_some()),
            succeeded: 0,
            p50_ms: p,
            p95_ms: p,
        };
        let days = [day(1, Some(10)), day(2, Some(20)), day(3, None), day(4, Some(40))];
        let s = series(&days, 40.0, "p50", |d| d.p50_ms);
        assert_eq!(s.runs.len(), 2);
        assert_eq!(s.marks.len(), 3);
        assert_eq!(s.marks[2].y, c(TOP), "the top of the axis");
        let chart = latency_chart(&days);
        assert_eq!(chart.latest, "Mar 4: p50 40 ms, p95 40 ms");
    }
}
