//! The `onboard` command line. Every flag can also be given as an `ONBOARD_*` environment
//! variable.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::bootstrap::MIN_OPERATOR_SECRET_LEN;

#[derive(Debug, Parser)]
#[command(
    name = "onboard",
    version,
    about = "Dynamic client registration (OBUK DCR v3.2) for banks, with an admin console",
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Without a command, `onboard` serves; these are the `serve` flags.
    #[command(flatten)]
    pub serve: ServeArgs,
    /// Log format.
    #[arg(long, env = "ONBOARD_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start Onboard (the default when no command is given).
    Serve(ServeArgs),
    /// Apply database migrations and exit.
    Migrate(DatabaseArgs),
    /// Seal every private key in the database under a new key encryption key. Stop every
    /// server sharing the database first, and start them with the new key afterwards; running
    /// it again after an interruption finishes the job.
    Rekey(RekeyArgs),
    /// Manage console administrators.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Act as a TPP: make keys, a certificate and a software statement, and register.
    #[command(subcommand)]
    Tpp(TppCommand),
    /// Evaluate Rego policies for a running server: one JSON request a line on standard input,
    /// one answer a line on standard output. The server starts these itself.
    #[command(name = "policy-worker", hide = true)]
    PolicyWorker,
}

#[derive(Debug, Subcommand)]
pub enum TppCommand {
    /// Make a TPP bundle in --dir: a signing key, a transport key and certificate, the TPP's
    /// JWKS, and (with --sandbox) a software statement from the tenant's sandbox directory.
    Init(TppInitArgs),
    /// Make the bundle's software statement again: a fresh one from the sandbox directory that
    /// enrolled it (--sandbox), or one signed with a given key (--key, --issuer). It is written
    /// to the bundle's `ssa.jwt` and printed.
    Ssa(TppSsaArgs),
    /// Print a signed registration request (a compact JWS) built from the bundle.
    Request {
        #[arg(long, default_value = "tpp")]
        dir: PathBuf,
        /// The request's `aud`: the bank's organisation id or the workspace's issuer URL.
        #[arg(long)]
        audience: String,
        #[command(flatten)]
        request: TppRequestArgs,
    },
    /// Register at the workspace the discovery document describes, over mutual TLS; the
    /// client and its registration access token are kept in the bundle's `client.json`.
    Register {
        #[arg(long, default_value = "tpp")]
        dir: PathBuf,
        /// The workspace's discovery URL (`.../.well-known/openid-configuration`).
        #[arg(long)]
        discovery: String,
        #[command(flatten)]
        tls: TppTlsArgs,
        #[command(flatten)]
        request: TppRequestArgs,
    },
    /// Get an access token with client credentials, over mutual TLS.
    Token {
        #[arg(long, default_value = "tpp")]
        dir: PathBuf,
        /// Scopes to ask for [default: the registered ones].
        #[arg(long)]
        scope: Option<String>,
        #[command(flatten)]
        tls: TppTlsArgs,
    },
    /// Read the registration back from the server.
    Get {
        #[arg(long, default_value = "tpp")]
        dir: PathBuf,
        #[command(flatten)]
        tls: TppTlsArgs,
    },
    /// Replace the registration with a new signed request.
    Update {
        #[arg(long, default_value = "tpp")]
        dir: PathBuf,
        #[command(flatten)]
        tls: TppTlsArgs,
        #[command(flatten)]
        request: TppRequestArgs,
    },
    /// Delete the registration; the client's tokens stop working.
    Delete {
        #[arg(long, default_value = "tpp")]
        dir: PathBuf,
        #[command(flatten)]
        tls: TppTlsArgs,
    },
}

/// What each listener serves, and to whom.
#[derive(Debug, Clone, Default, Args)]
pub struct ListenerArgs {
    /// Browsers reach the plain-HTTP listener only through a proxy that terminates TLS (as a
    /// non-loopback `--http-addr` should be): the console's session cookie is marked `Secure`
    /// there too, and its origin check expects `https`.
    #[arg(long, env = "ONBOARD_BEHIND_TLS_PROXY")]
    pub behind_tls_proxy: bool,
    /// The HTTPS listener (the one TPPs reach) serves the protocol endpoints and health checks
    /// only: the console, the admin API and `/metrics` stay on the plain listener.
    #[arg(long, env = "ONBOARD_HTTPS_PROTOCOL_ONLY")]
    pub https_protocol_only: bool,
}

/// How a TPP command reaches the server's HTTPS listener.
#[derive(Debug, Clone, Default, Args)]
pub struct TppTlsArgs {
    /// CA certificate(s) to trust for the server's TLS certificate, besides the system's
    /// (e.g. `data/tls/dev-ca.pem`).
    #[arg(long)]
    pub ca_file: Option<PathBuf>,
}

/// What a registration request asks for, beyond the bundle.
#[derive(Debug, Clone, Default, Args)]
pub struct TppRequestArgs {
    /// The scopes to ask for [default: from the roles: AISP accounts, PISP payments, CBPII
    /// fundsconfirmations, and openid].
    #[arg(long)]
    pub scope: Option<String>,
    /// Authenticate at the token endpoint with a signed client assertion instead of the
    /// transport certificate.
    #[arg(long)]
    pub private_key_jwt: bool,
    /// A JSON file holding an object whose members replace the request's claims (`null`
    /// removes one), e.g. `{"aud": "another bank", "exp": null}`.
    #[arg(long)]
    pub claims: Option<PathBuf>,
}

#[derive(Debug, Clone, Args)]
pub struct TppSsaArgs {
    #[arg(long, default_value = "tpp")]
    pub dir: PathBuf,
    /// The Onboard server whose sandbox directory enrolled the software (as for `init`).
    #[arg(long, required_unless_present = "key", conflicts_with = "key")]
    pub sandbox: Option<String>,
    #[arg(long, default_value = "default")]
    pub tenant: String,
    #[arg(long, env = "ONBOARD_ADMIN_API_KEY", hide_env_values = true)]
    pub admin_api_key: Option<String>,
    #[command(flatten)]
    pub tls: TppTlsArgs,
    /// A private key (PEM) to sign the statement with, as a directory of your own would.
    #[arg(long, requires = "issuer")]
    pub key: Option<PathBuf>,
    /// The key's algorithm.
    #[arg(long, value_enum, default_value_t = TppAlgorithm::Ps256)]
    pub alg: TppAlgorithm,
    /// The statement's `kid` header.
    #[arg(long, default_value = "directory")]
    pub kid: String,
    /// The statement's `iss`, as the workspace's trusted issuers name it.
    #[arg(long)]
    pub issuer: Option<String>,
    /// The statement's `software_jwks_endpoint`, where the TPP's key set is published
    /// [default: the bundle's key set, inline as `software_jwks`].
    #[arg(long)]
    pub jwks_endpoint: Option<String>,
    /// A JSON file of members that replace the statement's claims (`null` removes one).
    #[arg(long)]
    pub claims: Option<PathBuf>,
}

#[derive(Debug, Clone, Args)]
pub struct TppInitArgs {
    /// Where the bundle is written (created if missing).
    #[arg(long, default_value = "tpp")]
    pub dir: PathBuf,
    /// 1 to 22 letters or digits.
    #[arg(long)]
    pub software_id: String,
    #[arg(long)]
    pub org_id: String,
    /// The organisation's name (the software statement's `org_name`).
    #[arg(long, default_value = "Sandbox TPP Ltd")]
    pub org_name: String,
    #[arg(long, default_value = "Sandbox TPP")]
    pub client_name: String,
    /// Comma-separated: AISP, PISP, CBPII.
    #[arg(long, value_delimiter = ',', default_value = "AISP,PISP")]
    pub roles: Vec<String>,
    #[arg(long, required = true)]
    pub redirect_uri: Vec<String>,
    /// The request signing algorithm.
    #[arg(long, value_enum, default_value_t = TppAlgorithm::Ps256)]
    pub alg: TppAlgorithm,
    /// An Onboard server whose sandbox directory enrols the software (its admin API base,
    /// e.g. `http://127.0.0.1:3000`). Without it, the transport certificate is self-signed and
    /// no software statement is made.
    #[arg(long)]
    pub sandbox: Option<String>,
    #[arg(long, default_value = "default")]
    pub tenant: String,
    /// The admin API key of that server.
    #[arg(long, env = "ONBOARD_ADMIN_API_KEY", hide_env_values = true)]
    pub admin_api_key: Option<String>,
    #[command(flatten)]
    pub tls: TppTlsArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TppAlgorithm {
    #[value(name = "PS256")]
    Ps256,
    #[value(name = "ES256")]
    Es256,
}

impl TppAlgorithm {
    pub fn jws(self) -> crate::oauth2::jose::JwsAlgorithm {
        match self {
            Self::Ps256 => crate::oauth2::jose::JwsAlgorithm::Ps256,
            Self::Es256 => crate::oauth2::jose::JwsAlgorithm::Es256,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create a console administrator. The password comes from --password, else from the
    /// first line of standard input (never from `ONBOARD_ADMIN_PASSWORD`, the first
    /// administrator's, which a shell may still hold).
    CreateUser(AdministratorArgs),
    /// Give a console administrator a new password, read as for create-user. Their sessions
    /// signed in with the old one end, and a lock after failed sign-ins is lifted.
    SetPassword(AdministratorArgs),
    /// Sign a console administrator out everywhere (a lost laptop, an incident): every
    /// session of theirs ends at its next request. Their password stays.
    SignOut(AdministratorAddressArgs),
    /// Turn a console administrator's two-step sign-in off (a lost or replaced phone): they
    /// sign in with their password alone until they set up an authenticator app again.
    ResetTwoStep(AdministratorAddressArgs),
}

/// An administrator, for the `admin` commands that need no password.
#[derive(Debug, Clone, Args)]
pub struct AdministratorAddressArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    #[arg(long)]
    pub email: String,
}

/// An administrator and their password, for the `admin` commands.
#[derive(Debug, Clone, Args)]
pub struct AdministratorArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    #[arg(long)]
    pub email: String,
    #[arg(long)]
    pub password: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct RekeyArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// The key the database's private keys are sealed with now [default: the one in
    /// <data-dir>/key-encryption-key].
    #[arg(long, env = "ONBOARD_KEY_ENCRYPTION_KEY_FILE")]
    pub key_encryption_key_file: Option<PathBuf>,
    /// The new key, made there (readable by the owner only) if the file does not exist.
    #[arg(long)]
    pub new_key_encryption_key_file: PathBuf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Args)]
pub struct DatabaseArgs {
    /// Directory for the embedded database, development certificates and the generated admin
    /// API key.
    #[arg(long, env = "ONBOARD_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    /// Database URL: `sqlite:PATH` or `postgres://...` [default: a SQLite file in the data dir].
    #[arg(long, env = "ONBOARD_DATABASE_URL")]
    pub database_url: Option<String>,
}

impl DatabaseArgs {
    pub fn url(&self) -> String {
        self.database_url.clone().unwrap_or_else(|| format!("sqlite://{}", self.data_dir.join("onboard.db").display()))
    }
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// Address of the plain HTTP listener (the console and the same routes without TLS).
    #[arg(long, env = "ONBOARD_HTTP_ADDR", default_value = "127.0.0.1:3000")]
    pub http_addr: SocketAddr,
    /// Address of the HTTPS listener, which asks TPPs for a client certificate.
    #[arg(long, env = "ONBOARD_HTTPS_ADDR", default_value = "127.0.0.1:8443")]
    pub https_addr: SocketAddr,
    /// Base of every issuer and endpoint URL in discovery.
    #[arg(long, env = "ONBOARD_PUBLIC_URL", default_value = "https://localhost:8443")]
    pub public_url: String,
    /// Server certificate chain (PEM) [default: a development certificate in <data-dir>/tls].
    #[arg(long, env = "ONBOARD_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// Server private key (PEM).
    #[arg(long, env = "ONBOARD_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Key for the admin REST API (at least 32 characters; stored hashed). Without one, a key
    /// is generated on first start and written to <data-dir>/admin-api-key.
    #[arg(long, env = "ONBOARD_ADMIN_API_KEY", hide_env_values = true)]
    pub admin_api_key: Option<String>,
    /// E-mail address of a console administrator to create on start (unless it exists).
    #[arg(long, env = "ONBOARD_ADMIN_EMAIL", requires = "admin_password")]
    pub admin_email: Option<String>,
    /// Password of that administrator (at least 12 characters; stored as an argon2id hash).
    #[arg(long, env = "ONBOARD_ADMIN_PASSWORD", hide_env_values = true, requires = "admin_email")]
    pub admin_password: Option<String>,
    /// Create, on start, a `sandbox` workspace (tenant `default`) with OBUK DCR on and the
    /// sandbox directory trusted, unless it exists. `make run` sets it; a production
    /// deployment leaves it off.
    #[arg(long, env = "ONBOARD_SANDBOX_WORKSPACE")]
    pub sandbox_workspace: bool,
    #[command(flatten)]
    pub listeners: ListenerArgs,
    /// Let JWKS URIs use plain http to loopback hosts (for tests and local sandboxes); revocation
    /// lists may then be fetched from loopback too.
    #[arg(long, env = "ONBOARD_ALLOW_INSECURE_JWKS_URIS")]
    pub allow_insecure_jwks_uris: bool,
    /// Token that scrapers of `/metrics` present as `Authorization: Bearer` (at least 32
    /// characters); loopback callers of the plain listener need none. Without it, `/metrics`
    /// answers those alone.
    #[arg(long, env = "ONBOARD_METRICS_TOKEN", hide_env_values = true, value_parser = long_enough_token)]
    pub metrics_token: Option<String>,
    /// Networks besides the public internet that outbound fetches (JWKS URIs, certificate
    /// revocation lists) may reach, in CIDR notation and comma-separated (e.g. `10.20.0.0/16,fd00:1::/48`). Private, loopback, link-local and
    /// other special-purpose addresses are refused otherwise.
    #[arg(long, env = "ONBOARD_JWKS_ALLOWED_NETWORKS", value_delimiter = ',')]
    pub jwks_allowed_networks: Vec<String>,
    /// The key that seals private keys in the database (base64url of 32 random bytes, in a
    /// file). Every server sharing a database needs the same one. Without it, the one in
    /// `<data-dir>/key-encryption-key` is used, made on first start.
    #[arg(long, env = "ONBOARD_KEY_ENCRYPTION_KEY_FILE")]
    pub key_encryption_key_file: Option<PathBuf>,
    /// Host names besides the public URL's under which browsers reach the console (as typed in
    /// the address bar, without the port), comma-separated. The console refuses requests
    /// addressed to any other name (421), so a page whose name an attacker points at this
    /// server (DNS rebinding) cannot drive it from an administrator's browser. Addresses and
    /// `localhost` are always accepted.
    #[arg(long, env = "ONBOARD_CONSOLE_HOSTS", value_delimiter = ',')]
    pub console_hosts: Vec<String>,
    /// Sign a console session out after this many minutes unused (OWASP ASVS level 2 asks for
    /// 30 at most); 5 to 720. A sign-in lasts 12 hours at most however busy.
    #[arg(long, env = "ONBOARD_CONSOLE_IDLE_MINUTES", default_value_t = 30, value_parser = clap::value_parser!(u32).range(5..=720))]
    pub console_idle_minutes: u32,
    /// A sensitive change in the console (a workspace's settings, DCR settings and policies,
    /// manual clients, deleting clients, rotating the signing key, sandbox TPPs and their
    /// bundles) asks for the administrator's password again once this many minutes have
    /// passed since they last gave it in that session; 1 to 720 (the longest a sign-in lasts:
    /// never asks).
    #[arg(long, env = "ONBOARD_CONSOLE_CONFIRM_MINUTES", default_value_t = 15, value_parser = clap::value_parser!(u32).range(1..=720))]
    pub console_confirm_minutes: u32,
    /// Every console administrator signs in in two steps (a code from an authenticator app
    /// after the password): one who has not set it up can only set it up, on their account
    /// page, until they have.
    #[arg(long, env = "ONBOARD_CONSOLE_REQUIRE_TWO_STEP")]
    pub console_require_two_step: bool,
    /// Delete audit events (every workspace's audit log, and administrators' activity) once
    /// they are this many days old, 30 at least [default: keep them for good].
    #[arg(long, env = "ONBOARD_AUDIT_RETENTION_DAYS", value_parser = clap::value_parser!(u32).range(30..=36_500))]
    pub audit_retention_days: Option<u32>,
    /// Where the console's compiled assets are (cargo-leptos's site root).
    #[arg(long, env = "ONBOARD_SITE_ROOT", default_value = "target/site")]
    pub site_root: String,
    /// The program Rego policies run in (`{program} policy-worker`): this one, unless a test
    /// that serves from its own process names the `onboard` binary. Not a flag.
    #[arg(skip)]
    pub policy_worker_program: Option<std::path::PathBuf>,
}

impl ServeArgs {
    /// The defaults of `serve` with this database: for commands that need the application state
    /// but serve nothing.
    pub fn for_database(database: DatabaseArgs) -> Self {
        let mut args = Cli::parse_from(["onboard"]).serve;
        args.database = database;
        args
    }
}

/// A bearer token an operator chose, at least [`MIN_OPERATOR_SECRET_LEN`] characters.
fn long_enough_token(token: &str) -> Result<String, String> {
    if token.len() < MIN_OPERATOR_SECRET_LEN {
        return Err(format!("must be at least {MIN_OPERATOR_SECRET_LEN} characters"));
    }
    Ok(token.to_owned())
}

#[cfg(test)]
mod tests {
    use clap::Parser as _;

    use super::Cli;

    #[test]
    fn a_metrics_token_is_at_least_32_characters() {
        let with_token = |token: &str| Cli::try_parse_from(["onboard", "--metrics-token", token]);
        let refused = with_token("short").err().map(|e| e.to_string()).unwrap_or_default();
        assert!(refused.contains("at least 32 characters"), "{refused}");
        let token = "t".repeat(32);
        assert_eq!(with_token(&token).ok().and_then(|cli| cli.serve.metrics_token), Some(token));
    }
}
