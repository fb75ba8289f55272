//! How a caller's IP address is counted by the rate limits: an IPv6 caller by its /64 (a host
//! commonly holds a whole /64, so counting single addresses would let it rotate past any
//! limit), an IPv4 address mapped into IPv6 as the IPv4 address it is.

use std::net::IpAddr;

/// The key a caller at `address` is counted under.
pub fn rate_key(address: IpAddr) -> String {
    match address {
        IpAddr::V6(v6) if v6.to_ipv4_mapped().is_none() => {
            ipnet::Ipv6Net::new(v6, 64).map_or_else(|_| v6.to_string(), |net| net.trunc().to_string())
        }
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or_else(|| v6.to_string(), |v4| v4.to_string()),
        IpAddr::V4(v4) => v4.to_string(),
    }
}

/// The address of the caller of a console request, put into the request's extensions by the
/// server (which knows its connections) for the console's server functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallerAddress(pub IpAddr);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_callers_are_counted_by_their_64_and_mapped_ipv4_as_ipv4() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(rate_key(ip("2001:db8:1:2:aaaa::1")), rate_key(ip("2001:db8:1:2:bbbb::9")));
        assert_ne!(rate_key(ip("2001:db8:1:2::1")), rate_key(ip("2001:db8:1:3::1")));
        assert_eq!(rate_key(ip("::ffff:192.0.2.7")), "192.0.2.7");
        assert_eq!(rate_key(ip("192.0.2.7")), "192.0.2.7");
    }
}
