//! Which network addresses webhook and tool targets may reach (the SSRF policy).
//!
//! Refused unless allowed: unspecified, loopback, private (RFC 1918), CGNAT, link-local
//! (cloud metadata at 169.254.169.254 included), multicast, broadcast, reserved and
//! documentation ranges, IPv6 unique-local, link-local and site-local, and any IPv6
//! address that embeds an IPv4 one (IPv4-mapped, IPv4-compatible, NAT64, 6to4) whose IPv4
//! is refused. The policy lives here, once; the delivery client enforces it on every
//! connect and the API on literal-IP URLs at creation.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;

use crate::ValidationError;

/// Why an address is refused, or `None` when it is a public (global) address.
#[must_use]
pub fn non_global_reason(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => v4_reason(v4),
        IpAddr::V6(v6) => v6_reason(v6),
    }
}

fn v4_reason(ip: Ipv4Addr) -> Option<&'static str> {
    let o = ip.octets();
    if ip.is_unspecified() || o[0] == 0 {
        Some("an unspecified address")
    } else if ip.is_loopback() {
        Some("a loopback address")
    } else if ip.is_private() {
        Some("a private address")
    } else if o[0] == 100 && (o[1] & 0xc0) == 64 {
        Some("a carrier-grade NAT address")
    } else if ip.is_link_local() {
        Some("a link-local address (cloud metadata lives here)")
    } else if ip.is_multicast() {
        Some("a multicast address")
    } else if ip.is_broadcast()
        || o[0] >= 240
        || ip.is_documentation()
        || (o[0] == 198 && (o[1] & 0xfe) == 18)
        || (o[0] == 192 && o[1] == 0 && o[2] == 0)
    {
        Some("a reserved address")
    } else {
        None
    }
}

fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let o = ip.octets();
    let tail = Ipv4Addr::new(o[12], o[13], o[14], o[15]);
    if let Some(v4) = ip.to_ipv4_mapped() {
        Some(v4)
    } else if s[..6] == [0, 0, 0, 0, 0, 0] || s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        Some(tail) // IPv4-compatible (deprecated) or NAT64
    } else if s[0] == 0x2002 {
        Some(Ipv4Addr::new(o[2], o[3], o[4], o[5])) // 6to4
    } else {
        None
    }
}

fn v6_reason(ip: Ipv6Addr) -> Option<&'static str> {
    let s0 = ip.segments()[0];
    if ip.is_unspecified() {
        Some("an unspecified address")
    } else if ip.is_loopback() {
        Some("a loopback address")
    } else if let Some(v4) = embedded_v4(ip) {
        v4_reason(v4)
    } else if ip.segments()[..6] == [0, 0, 0, 0, 0xffff, 0] || ip.segments()[..3] == [0x64, 0xff9b, 1] {
        Some("an IPv4-translation address")
    } else if (s0 & 0xfe00) == 0xfc00 {
        Some("a unique-local (private) address")
    } else if (s0 & 0xffc0) == 0xfe80 || (s0 & 0xffc0) == 0xfec0 {
        Some("a link-local address")
    } else if (s0 & 0xff00) == 0xff00 {
        Some("a multicast address")
    } else if s0 == 0x2001 && ip.segments()[1] == 0x0db8 {
        Some("a documentation address")
    } else if s0 == 0x2001 && ip.segments()[1] == 0 {
        Some("a Teredo address")
    } else {
        None
    }
}

/// The policy in force: whether private targets are allowed, and an allow-list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TargetPolicy {
    /// `FRONTDESK_ALLOW_PRIVATE_TARGETS`: every address is allowed.
    pub allow_private: bool,
    /// `FRONTDESK_ALLOWED_TARGET_CIDRS`: these networks are allowed even when not global.
    pub allowed: Vec<IpNet>,
}

impl TargetPolicy {
    /// A policy that allows every address: for checking a URL's shape alone.
    #[must_use]
    pub fn any_address() -> Self {
        Self {
            allow_private: true,
            allowed: Vec::new(),
        }
    }

    /// Parses a comma-separated CIDR list (`10.0.0.0/8,fd00::/8`); single addresses
    /// are taken as /32 or /128.
    pub fn parse_cidrs(s: &str) -> Result<Vec<IpNet>, ValidationError> {
        s.split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|p| {
                p.parse::<IpNet>()
                    .or_else(|_| p.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| {
                        ValidationError::new(
                            "allowed_target_cidrs",
                            format!("`{p}` is not a CIDR; write for example 10.1.0.0/16"),
                        )
                    })
            })
            .collect()
    }

    /// `Ok` when the address may be connected to; else the kind of address it is
    /// (`"a loopback address"`), without the address itself.
    pub fn check_kind(&self, ip: IpAddr) -> Result<(), &'static str> {
        if self.allow_private {
            return Ok(());
        }
        let canonical = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        if self.allowed.iter().any(|n| n.contains(&ip) || n.contains(&canonical)) {
            return Ok(());
        }
        non_global_reason(ip).map_or(Ok(()), Err)
    }

    /// `Ok` when the address may be connected to; else why not, naming the address (for
    /// addresses the user wrote themselves).
    pub fn check(&self, ip: IpAddr) -> Result<(), String> {
        self.check_kind(ip).map_err(|reason| {
            format!(
                "{ip} is {reason}; webhook and tool targets must be public addresses (set FRONTDESK_ALLOW_PRIVATE_TARGETS=true or FRONTDESK_ALLOWED_TARGET_CIDRS to allow it)"
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(s: &str) -> bool {
        TargetPolicy::default().check(s.parse().unwrap()).is_err()
    }

    #[test]
    fn private_and_special_addresses_are_refused() {
        for ip in [
            "127.0.0.1",
            "127.8.9.10",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "100.127.255.255",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "240.0.0.1",
            "192.0.2.1",
            "198.18.0.1",
            "::",
            "::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
            "::127.0.0.1",
            "64:ff9b::a00:1",
            "2002:7f00:1::",
            "fc00::1",
            "fd00:ec2::254",
            "fe80::1",
            "fec0::1",
            "ff02::1",
            "2001:db8::1",
            "2001::1",
            "::ffff:0:a00:1",
            "64:ff9b:1::a00:1",
        ] {
            assert!(refused(ip), "{ip} must be refused");
        }
    }

    #[test]
    fn public_addresses_pass() {
        for ip in [
            "1.1.1.1",
            "8.8.8.8",
            "172.32.0.1",
            "100.128.0.1",
            "::ffff:8.8.8.8",
            "2606:4700:4700::1111",
            "64:ff9b::808:808",
        ] {
            assert!(!refused(ip), "{ip} is public");
        }
    }

    #[test]
    fn allow_list_and_switch() {
        let p = TargetPolicy {
            allow_private: false,
            allowed: TargetPolicy::parse_cidrs("127.0.0.1, 10.0.0.0/8").unwrap(),
        };
        assert!(p.check("127.0.0.1".parse().unwrap()).is_ok());
        assert!(p.check("::ffff:127.0.0.1".parse().unwrap()).is_ok());
        assert!(p.check("127.0.0.2".parse().unwrap()).is_err());
        assert!(p.check("10.9.9.9".parse().unwrap()).is_ok());
        let all = TargetPolicy {
            allow_private: true,
            allowed: vec![],
        };
        assert!(all.check("169.254.169.254".parse().unwrap()).is_ok());
        assert!(TargetPolicy::parse_cidrs("10.0.0.0/33").is_err());
        let msg = TargetPolicy::default().check("10.0.0.1".parse().unwrap()).unwrap_err();
        assert!(msg.contains("FRONTDESK_ALLOW_PRIVATE_TARGETS"), "{msg}");
    }
}
