//! Page discovery: which pages of a site to audit, found the way crawlers find them,
//! within a budget, and the same pages night after night (docs/crawl.md).
//!
//! Pure: no browser, no network. The caller fetches and renders
//! ([`discover::Fetch`], [`discover::Render`]; `engine::discover` does it with the
//! engine's browser); everything here is deterministic over what they return. One file
//! per responsibility:
//! - [`settings`]: what a site asks for (`[site] crawl`), plain data the scenario model
//!   holds;
//! - [`robots`]: robots.txt (RFC 9309);
//! - [`sitemap`]: sitemaps and sitemap indexes, gzip, bounded;
//! - [`links`]: same-site links of a rendered page;
//! - [`template`]: URL → template;
//! - [`plan`]: the crawl plan and the deterministic sampler;
//! - [`discover`]: the breadth-first discovery over the caller's fetcher and renderer.
//!
//! This room imports only the leaf helpers (`net`): the scenario model (floor 5) holds
//! its settings, the engine (floor 11) drives it.

pub mod discover;
#[cfg(test)]
mod discover_tests;
mod glob;
pub mod links;
pub mod plan;
pub mod robots;
pub mod settings;
pub mod sitemap;
pub mod template;

pub use discover::{discover, Fetch, Fetched, Limits, Render, Rendered, Target};
pub use plan::{listed_only, CrawlPlan, Found, PlannedPage, Problem, Skipped};
pub use settings::{CrawlSettings, PathPattern, Robots};
