//! TLS client settings for the connections consentry opens itself: to a remote browser
//! engine (an `https://` WebDriver URL, Selenium Grid behind TLS, and its `wss://`
//! DevTools websocket, docs/grid.md) and to alert webhooks (docs/alerts.md).
//!
//! One configuration for all, built once: rustls with the ring provider and the system's
//! trusted roots (`rustls-native-certs`: Debian's `/etc/ssl/certs`, or the PEM bundle
//! named by `SSL_CERT_FILE` / the directory named by `SSL_CERT_DIR`, which is how a
//! private CA is trusted). Nothing reads the certificate store unless a TLS connection is
//! actually made, so a plain local run never touches it.

use rustls::pki_types::CertificateDer;
use rustls::{ClientConfig, RootCertStore};
use std::sync::{Arc, OnceLock};

/// Which certificates a server may chain to.
#[derive(Debug, Clone, Default)]
pub enum Roots {
    /// The system's store ([`client_config`]).
    #[default]
    System,
    /// These only (tests with their own CA).
    Only(Vec<CertificateDer<'static>>),
}

/// The client configuration for `roots`: the shared one for the system's store.
pub fn config_for(roots: &Roots) -> Result<Arc<ClientConfig>, String> {
    match roots {
        Roots::System => client_config(),
        Roots::Only(certs) => {
            let mut store = RootCertStore::empty();
            for cert in certs {
                store
                    .add(cert.clone())
                    .map_err(|e| format!("a root certificate is invalid: {e}"))?;
            }
            with_roots(store)
        }
    }
}

/// The shared client configuration (system roots, TLS 1.2 and 1.3, no client
/// certificate). The error says why no roots could be loaded.
pub fn client_config() -> Result<Arc<ClientConfig>, String> {
    static CONFIG: OnceLock<Result<Arc<ClientConfig>, String>> = OnceLock::new();
    CONFIG.get_or_init(build).clone()
}

fn build() -> Result<Arc<ClientConfig>, String> {
    let found = rustls_native_certs::load_native_certs();
    let mut roots = RootCertStore::empty();
    let (added, _unparsable) = roots.add_parsable_certificates(found.certs);
    if added == 0 {
        let why: Vec<String> = found.errors.iter().map(|e| e.to_string()).collect();
        return Err(format!(
            "no trusted root certificate found for TLS (the system store, or SSL_CERT_FILE / SSL_CERT_DIR){}",
            if why.is_empty() {
                String::new()
            } else {
                format!(": {}", why.join("; "))
            }
        ));
    }
    with_roots(roots)
}

fn with_roots(roots: RootCertStore) -> Result<Arc<ClientConfig>, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS set-up: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}
