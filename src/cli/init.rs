//! `consentry init URL`: a commented starter scenario file and policy for a site
//! (`consentry::schema::starter`), valid as written, in `--dir` (default: here). It never
//! overwrites a file unless `--force`. Prints the files written on stdout.

use clap::Args;
use consentry::exit::ExitStatus;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct InitArgs {
    /// The site's base URL (`https://www.my-shop.example/`).
    #[arg(value_name = "URL")]
    pub url: String,
    /// The site's name and the files' stem (default: its registrable domain, `my-shop-example`).
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// Where to write `NAME.toml` and `NAME.policy.toml` (default: the current directory).
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub dir: PathBuf,
    /// Overwrite files that exist.
    #[arg(long)]
    pub force: bool,
    /// consentry's installed data, for the `#:schema` lines (default: as `audit` finds it).
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
}

pub fn run(args: InitArgs) -> ExitStatus {
    let fail = |msg: String| {
        consentry::stderr::line(format_args!("error: {msg}"));
        ExitStatus::InvalidInput
    };
    let url = match url::Url::parse(args.url.trim()) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some() => u,
        Ok(_) | Err(_) => {
            return fail(format!(
                "{:?} is not an absolute http:// or https:// URL (as in \"https://www.my-shop.example/\")",
                args.url
            ))
        }
    };
    let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
    let domain = consentry::net::registrable_domain(&host).unwrap_or_else(|| host.clone());
    let name = match &args.name {
        Some(n) => n.trim().to_string(),
        None => domain.replace('.', "-"),
    };
    let name_ok = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && !name.starts_with('.');
    if !name_ok {
        return fail(format!(
            "--name {name:?}: use letters, digits, `-`, `_` and `.` (it names the files)"
        ));
    }
    let scenario_path = args.dir.join(format!("{name}.toml"));
    let policy_file = format!("{name}.policy.toml");
    let policy_path = args.dir.join(&policy_file);
    if !args.force {
        for p in [&scenario_path, &policy_path] {
            if std::fs::symlink_metadata(p).is_ok() {
                return fail(format!(
                    "{} exists; consentry init never overwrites a file (--force to replace it, --name or --dir for another)",
                    p.display()
                ));
            }
        }
    }
    let schema_dir = consentry::data::Lookup::from_process(args.data_dir.as_deref())
        .locate()
        .map(|c| c.dir.join("schemas"))
        .filter(|d| d.join("scenario.schema.json").is_file())
        .map(|d| std::fs::canonicalize(&d).unwrap_or(d));
    let date = chrono::Utc::now().format("%Y-%m-%d").to_string();
    let base_url = url.to_string();
    let starter = consentry::schema::starter::Starter {
        name: &name,
        base_url: &base_url,
        domain: &domain,
        policy_file: &policy_file,
        schema_dir: schema_dir.as_deref(),
        date: &date,
    };
    if let Err(e) = std::fs::create_dir_all(&args.dir) {
        return fail(format!("cannot create {}: {e}", args.dir.display()));
    }
    for (path, text) in [
        (
            &scenario_path,
            consentry::schema::starter::scenario(&starter),
        ),
        (&policy_path, consentry::schema::starter::policy(&starter)),
    ] {
        if let Err(e) = std::fs::write(path, text) {
            return fail(format!("cannot write {}: {e}", path.display()));
        }
    }
    consentry::stderr::line(format_args!(
        "next: complete the policy with the privacy team, then `consentry validate {}` and `consentry audit {}` (docs/scenarios.md)",
        scenario_path.display(),
        scenario_path.display()
    ));
    let listing = format!("{}\n{}", scenario_path.display(), policy_path.display());
    match crate::cli::output::line_to_stdout(&listing) {
        Ok(()) => ExitStatus::Ok,
        Err(status) => status,
    }
}
