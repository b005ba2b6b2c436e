//! Platforms (`linux/amd64`, `linux/arm64/v8`) as OCI descriptors and
//! configs carry them, with Docker's normalization of names.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// An OCI platform. Unknown fields are kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Platform {
    /// CPU architecture in GOARCH form (`amd64`, `arm64`).
    pub architecture: String,
    /// Operating system in GOOS form (`linux`).
    pub os: String,
    /// OS version (Windows images).
    #[serde(
        rename = "os.version",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub os_version: Option<String>,
    /// OS features (Windows images).
    #[serde(
        rename = "os.features",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub os_features: Option<Vec<String>>,
    /// CPU variant (`v7`, `v8`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    /// Fields this version does not know.
    #[serde(flatten)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

/// Why a platform string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid platform {0:?}: expected OS/ARCH[/VARIANT]")]
pub struct PlatformError(String);

impl Platform {
    /// The platform this binary was built for.
    pub fn host() -> Platform {
        let arch = match std::env::consts::ARCH {
            "x86_64" => "amd64",
            "aarch64" => "arm64",
            "x86" => "386",
            "arm" => "arm",
            "powerpc64" => "ppc64le",
            "s390x" => "s390x",
            "riscv64" => "riscv64",
            other => other,
        };
        let variant = (arch == "arm64").then(|| "v8".to_owned());
        Platform {
            architecture: arch.to_owned(),
            os: std::env::consts::OS.to_owned(),
            variant,
            ..Platform::default()
        }
    }

    /// Docker's normalization: `x86_64`→`amd64`, `aarch64`→`arm64`, and an
    /// `arm64` variant of `v8` is the same as none.
    pub fn normalized(&self) -> Platform {
        let mut p = self.clone();
        p.os = p.os.to_lowercase();
        p.architecture = match p.architecture.to_lowercase().as_str() {
            "x86_64" | "x86-64" => "amd64".to_owned(),
            "aarch64" => "arm64".to_owned(),
            "armhf" => {
                p.variant.get_or_insert_with(|| "v7".to_owned());
                "arm".to_owned()
            }
            "armel" => {
                p.variant.get_or_insert_with(|| "v6".to_owned());
                "arm".to_owned()
            }
            "i386" => "386".to_owned(),
            other => other.to_owned(),
        };
        if p.architecture == "arm64" && p.variant.as_deref() == Some("v8") {
            p.variant = None;
        }
        p
    }

    /// Whether an image for `self` serves a request for `wanted` (both
    /// normalized; a missing wanted variant matches any).
    pub fn matches(&self, wanted: &Platform) -> bool {
        let a = self.normalized();
        let b = wanted.normalized();
        a.os == b.os
            && a.architecture == b.architecture
            && (b.variant.is_none() || a.variant == b.variant)
    }
}

impl FromStr for Platform {
    type Err = PlatformError;

    fn from_str(s: &str) -> Result<Platform, PlatformError> {
        let parts: Vec<&str> = s.split('/').collect();
        if parts.iter().any(|p| p.is_empty()) || !(2..=3).contains(&parts.len()) {
            return Err(PlatformError(s.to_owned()));
        }
        Ok(Platform {
            os: parts[0].to_owned(),
            architecture: parts[1].to_owned(),
            variant: parts.get(2).map(|v| (*v).to_owned()),
            ..Platform::default()
        }
        .normalized())
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_match() {
        let p: Platform = "linux/aarch64/v8".parse().unwrap();
        assert_eq!(p.to_string(), "linux/arm64");
        assert!(
            Platform {
                variant: Some("v8".into()),
                ..p.clone()
            }
            .matches(&p)
        );
        assert!(
            "linux/arm/v7"
                .parse::<Platform>()
                .unwrap()
                .matches(&"linux/arm".parse().unwrap())
        );
        assert!(
            !"linux/arm/v6"
                .parse::<Platform>()
                .unwrap()
                .matches(&"linux/arm/v7".parse().unwrap())
        );
        assert!("linux".parse::<Platform>().is_err());
        assert!("linux//v7".parse::<Platform>().is_err());
    }
}
