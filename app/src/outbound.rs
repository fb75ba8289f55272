//! Onboard's own outbound fetches (key sets at JWKS URIs, certificate revocation lists): which
//! addresses they may reach, and the one bounded GET they all make ([`Fetcher`]).
//!
//! A JWKS URI comes from a TPP or an administrator: followed blindly it would let a caller make
//! the bank's server probe its own network (SSRF). So a fetch may reach public addresses only;
//! private, loopback, link-local, shared, documentation and other special-purpose ranges are
//! refused unless the deployment lists them (`--jwks-allowed-networks`). The check is made on
//! the addresses the name resolves to, and the connection goes to exactly those addresses, so a
//! name that resolves differently the second time (DNS rebinding) gains nothing.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use ipnet::IpNet;
use url::Url;

const FETCH_TIMEOUT: Duration = Duration::from_secs(3);

/// The networks beyond the public internet that outbound fetches may reach.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutboundPolicy {
    allowed: Vec<IpNet>,
}

/// Loopback, for deployments that let JWKS URIs point at this machine (tests, local sandboxes).
pub const LOOPBACK_NETWORKS: [&str; 2] = ["127.0.0.0/8", "::1/128"];

impl OutboundPolicy {
    /// Public addresses, and `allowed` besides.
    pub fn allowing(allowed: Vec<IpNet>) -> Self {
        Self { allowed }
    }

    /// Parses a list of networks in CIDR notation (`10.1.0.0/16`, `fd00::/8`); a bare address
    /// stands for itself alone.
    pub fn parse_networks(list: &[String]) -> Result<Vec<IpNet>, String> {
        list.iter()
            .map(|item| {
                let item = item.trim();
                IpNet::from_str(item)
                    .or_else(|_| IpAddr::from_str(item).map(IpNet::from))
                    .map_err(|_| format!("{item:?} is not a network (e.g. 10.0.0.0/8) or an address"))
            })
            .collect()
    }

    /// This policy with loopback allowed too.
    #[must_use]
    pub fn with_loopback(mut self) -> Self {
        self.allowed.extend(LOOPBACK_NETWORKS.iter().filter_map(|net| IpNet::from_str(net).ok()));
        self
    }

    /// Whether a connection to `ip` is allowed.
    pub fn permits(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        is_public(ip) || self.allowed.iter().any(|net| net.contains(&ip))
    }
}

/// An IPv4 address carried in IPv6 (mapped `::ffff:a.b.c.d`, or NAT64 `64:ff9b::a.b.c.d`) is
/// judged as the IPv4 address it reaches.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return IpAddr::V4(v4);
            }
            let octets = v6.octets();
            if v6.segments()[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
                return IpAddr::V4(Ipv4Addr::new(octets[12], octets[13], octets[14], octets[15]));
            }
            IpAddr::V6(v6)
        }
        v4 @ IpAddr::V4(_) => v4,
    }
}

/// The HTTP client of outbound fetches: a 3 s timeout, no redirects, no proxy, and names
/// resolved only to the addresses the policy permits.
pub struct Fetcher {
    http: reqwest::Client,
    policy: Arc<OutboundPolicy>,
}

/// A body fetched, with the response's `Cache-Control`.
pub struct Fetched {
    pub body: Vec<u8>,
    pub cache_control: Option<reqwest::header::HeaderValue>,
}

/// Why a fetch failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchFailure {
    /// No answer: the reason is safe to show an administrator.
    Unreachable(String),
    /// An answer other than 200.
    Status(u16),
    /// A body over the caller's limit.
    TooLarge,
}

impl Fetcher {
    pub fn new(policy: OutboundPolicy) -> Result<Self, reqwest::Error> {
        let policy = Arc::new(policy);
        let http = reqwest::Client::builder()
            .timeout(FETCH_TIMEOUT)
            .connect_timeout(FETCH_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            // A proxy would resolve the name itself, past the address check.
            .no_proxy()
            .dns_resolver(Arc::new(GuardedResolver { policy: policy.clone() }))
            .user_agent(concat!("onboard/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self { http, policy })
    }

    /// An address written in `url` must be one fetches may reach (a name is checked when it
    /// resolves, at each fetch). Settings check this on save, so that a URL every fetch would
    /// refuse is not saved.
    pub fn check_address(&self, url: &Url) -> Result<(), String> {
        let literal = match url.host() {
            Some(url::Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
            Some(url::Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
            _ => None,
        };
        match literal {
            Some(ip) if !self.policy.permits(ip) => Err(format!(
                "{ip} is not an address outbound fetches may reach (private and special-purpose networks need \
                 --jwks-allowed-networks)"
            )),
            _ => Ok(()),
        }
    }

    /// GETs `url`, asking for `accept`, and reads at most `max_bytes` of a 200 answer.
    pub async fn get(&self, url: &Url, accept: &'static str, max_bytes: usize) -> Result<Fetched, FetchFailure> {
        let unreachable = |e: reqwest::Error| FetchFailure::Unreachable(describe(&e));
        let mut response =
            self.http.get(url.clone()).header(reqwest::header::ACCEPT, accept).send().await.map_err(unreachable)?;
        if response.status() != reqwest::StatusCode::OK {
            return Err(FetchFailure::Status(response.status().as_u16()));
        }
        if response.content_length().is_some_and(|len| len > max_bytes as u64) {
            return Err(FetchFailure::TooLarge);
        }
        let cache_control = response.headers().get(reqwest::header::CACHE_CONTROL).cloned();
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(unreachable)? {
            if body.len() + chunk.len() > max_bytes {
                return Err(FetchFailure::TooLarge);
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Fetched { body, cache_control })
    }
}

/// The cache lifetime a `Cache-Control` header asks for (`max-age`), `default` without one,
/// and within `bounds` (its start for `no-store` or `no-cache`).
pub fn cache_lifetime(
    header: Option<&reqwest::header::HeaderValue>,
    default: chrono::Duration,
    bounds: std::ops::RangeInclusive<chrono::Duration>,
) -> chrono::Duration {
    let Some(value) = header.and_then(|h| h.to_str().ok()) else { return default };
    let directives = value.split(',').map(str::trim);
    if directives.clone().any(|d| d.eq_ignore_ascii_case("no-store") || d.eq_ignore_ascii_case("no-cache")) {
        return *bounds.start();
    }
    directives.filter_map(|d| d.strip_prefix("max-age=")).find_map(|seconds| seconds.parse::<u64>().ok()).map_or(
        default,
        |seconds| {
            // Clamped before conversion: a huge max-age from a remote host must not overflow.
            let (min, max) = (bounds.start().num_seconds().unsigned_abs(), bounds.end().num_seconds().unsigned_abs());
            chrono::Duration::seconds(i64::try_from(seconds.clamp(min, max)).unwrap_or(i64::MAX))
        },
    )
}

fn describe(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        "timed out".to_owned()
    } else if let Some(refused) = source_of::<NotPermitted>(error) {
        refused.to_string()
    } else if error.is_connect() {
        "connection failed".to_owned()
    } else if error.is_redirect() || error.status().is_some_and(|s| s.is_redirection()) {
        "redirects are not followed".to_owned()
    } else {
        "request failed".to_owned()
    }
}

/// The first error of type `E` in `error`'s chain of sources.
fn source_of<'e, E: std::error::Error + 'static>(error: &'e (dyn std::error::Error + 'static)) -> Option<&'e E> {
    let mut current = Some(error);
    while let Some(error) = current {
        if let Some(found) = error.downcast_ref::<E>() {
            return Some(found);
        }
        current = error.source();
    }
    None
}

/// Globally reachable unicast: not in any special-purpose range of the IANA registries.
fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_documentation()
        || ip.is_multicast()
        || a == 0 // "this network"
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT)
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || a >= 240) // reserved
}

/// Global unicast (`2000::/3`, the only IPv6 space allocated for it) outside its special
/// ranges. Everything else (loopback, unique and link-local, multicast, the reserved space,
/// IPv4-compatible and local-use NAT64 (RFC 8215) addresses) is no public host.
fn is_public_v6(ip: Ipv6Addr) -> bool {
    let [first, second, ..] = ip.segments();
    let special = match first {
        // IETF protocol assignments (Teredo's IPv4 tunnels among them), and documentation.
        0x2001 => second < 0x0200 || second == 0x0db8,
        // 6to4: reaches an IPv4 address that is not checked here.
        0x2002 => true,
        // Documentation (RFC 9637).
        0x3fff => second < 0x1000,
        _ => false,
    };
    (first & 0xe000) == 0x2000 && !special
}

/// A resolver for reqwest that answers only with the addresses the policy permits.
pub struct GuardedResolver {
    pub policy: Arc<OutboundPolicy>,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.policy.clone();
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let permitted: Vec<SocketAddr> = found.iter().copied().filter(|addr| policy.permits(addr.ip())).collect();
            if permitted.is_empty() {
                return Err(Box::new(NotPermitted { host, found: !found.is_empty() }) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(permitted.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// A name that resolved to no address the policy permits.
#[derive(Debug, thiserror::Error)]
#[error("{host} {}", if *.found { "resolves only to addresses outbound fetches may not reach" } else { "does not resolve" })]
pub struct NotPermitted {
    host: String,
    found: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn public_addresses_pass_and_special_ranges_do_not() {
        let policy = OutboundPolicy::default();
        for public in ["8.8.8.8", "151.101.1.69", "2a00:1450:4009:81f::200e", "64:ff9b::808:808", "2001:200::1"] {
            assert!(policy.permits(ip(public)), "{public} is public");
        }
        for special in [
            "127.0.0.1",
            "10.0.0.5",
            "172.16.3.4",
            "192.168.1.1",
            "169.254.169.254", // cloud metadata
            "100.64.0.1",
            "0.0.0.0",
            "0.1.2.3",
            "255.255.255.255",
            "192.0.2.10",
            "198.18.0.1",
            "224.0.0.1",
            "240.0.0.1",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "2001:db8::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a00:1",
            "2002:7f00:1::",
            "::7f00:1",
            "64:ff9b:1::a00:5",
            "64:ff9b:1:ffff::1",
            "2001::4136:e378:8000:63bf:3fff:fdd2", // Teredo
            "2001:1ff:ffff::1",
            "3fff::1",
            "100::1",
            "4000::1",
        ] {
            assert!(!policy.permits(ip(special)), "{special} is refused");
        }
    }

    #[test]
    fn listed_networks_and_loopback_can_be_allowed() {
        let networks =
            OutboundPolicy::parse_networks(&["10.1.0.0/16".to_owned(), " fd00::7 ".to_owned()]).unwrap_or_else(|e| panic!("{e}"));
        let policy = OutboundPolicy::allowing(networks);
        assert!(policy.permits(ip("10.1.200.3")));
        assert!(policy.permits(ip("fd00::7")));
        assert!(!policy.permits(ip("fd00::8")));
        assert!(!policy.permits(ip("10.2.0.1")));
        assert!(!policy.permits(ip("127.0.0.1")));
        let policy = policy.with_loopback();
        assert!(policy.permits(ip("127.0.0.1")) && policy.permits(ip("::1")) && policy.permits(ip("::ffff:127.0.0.2")));
        assert!(OutboundPolicy::parse_networks(&["10.0.0.0/33".to_owned()]).is_err());
        assert!(OutboundPolicy::parse_networks(&["intranet".to_owned()]).is_err());
    }

    #[tokio::test]
    async fn the_resolver_answers_only_with_permitted_addresses() {
        use reqwest::dns::Resolve as _;
        let name = |s: &str| reqwest::dns::Name::from_str(s).unwrap_or_else(|_| panic!("{s}"));
        let strict = GuardedResolver { policy: Arc::new(OutboundPolicy::default()) };
        let refused = strict.resolve(name("localhost")).await.err().map(|e| e.to_string());
        assert_eq!(refused.as_deref(), Some("localhost resolves only to addresses outbound fetches may not reach"));
        let open = GuardedResolver { policy: Arc::new(OutboundPolicy::default().with_loopback()) };
        let addrs: Vec<SocketAddr> = open.resolve(name("localhost")).await.map(Iterator::collect).unwrap_or_default();
        assert!(!addrs.is_empty() && addrs.iter().all(|a| a.ip().is_loopback()));
    }
}
