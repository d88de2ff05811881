//! Can the engine's kernel route Swarm virtual IPs? Swarm's VIP endpoint mode
//! and its ingress routing mesh are IPVS load balancers in the kernel; on a
//! kernel without IPVS the VIP takes connections nowhere ("No route to
//! host", measured on this project's Engine 20.10 machine) while DNS
//! round-robin works. The daemon does not report it, so we look at the host.
//!
//! Owns: reading the facts (/proc, /sys, /lib/modules) and the verdict.
//! Must not: decide what to do about it (`plan::swarm` does). Only meaningful
//! when the daemon runs on this machine (a unix socket); otherwise unknown.

use std::path::Path;

/// Whether Swarm's VIPs (and so the routing mesh) work on the engine's kernel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VipSupport {
    Available,
    /// Why not, in words ("no IPVS in this kernel: ...").
    Unavailable(String),
    /// The engine is not on this machine (or this is not Linux): cannot tell.
    Unknown(String),
}

/// What the host says about IPVS.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KernelFacts {
    /// `/proc/net` exists (a Linux host).
    pub linux: bool,
    /// `/proc/net/ip_vs` exists: the module is loaded.
    pub ip_vs_loaded: bool,
    /// `/sys/module/ip_vs` exists: loaded or built in.
    pub ip_vs_in_sys: bool,
    /// The kernel release (`/proc/sys/kernel/osrelease`).
    pub release: String,
    /// `/lib/modules/<release>/modules.dep` or `modules.builtin` names ip_vs:
    /// the daemon could load it on demand. `None`: no module tree to look in.
    pub ip_vs_module: Option<bool>,
}

impl KernelFacts {
    /// Reads the facts from `root` ("/" on a real host; a directory in tests).
    pub fn read(root: &Path) -> KernelFacts {
        let linux = root.join("proc/net").is_dir();
        let release = std::fs::read_to_string(root.join("proc/sys/kernel/osrelease"))
            .map(|s| s.trim().to_string())
            .unwrap_or_default();
        let ip_vs_module = if release.is_empty() {
            None
        } else {
            let dir = root.join("lib/modules").join(&release);
            let lists: Vec<String> = ["modules.dep", "modules.builtin"]
                .iter()
                .filter_map(|f| std::fs::read_to_string(dir.join(f)).ok())
                .collect();
            (!lists.is_empty()).then(|| {
                lists
                    .iter()
                    .any(|l| l.lines().any(|line| line.contains("/ip_vs.ko")))
            })
        };
        KernelFacts {
            linux,
            ip_vs_loaded: root.join("proc/net/ip_vs").exists(),
            ip_vs_in_sys: root.join("sys/module/ip_vs").exists(),
            release,
            ip_vs_module,
        }
    }

    pub fn verdict(&self) -> VipSupport {
        if !self.linux {
            return VipSupport::Unknown("this machine has no /proc/net to look at".into());
        }
        if self.ip_vs_loaded || self.ip_vs_in_sys || self.ip_vs_module == Some(true) {
            return VipSupport::Available;
        }
        let modules = match self.ip_vs_module {
            Some(_) => format!("no ip_vs module for kernel {}", self.release),
            None => format!("no module tree for kernel {}", self.release),
        };
        VipSupport::Unavailable(format!(
            "no IPVS in this kernel (/proc/net/ip_vs missing, {modules})"
        ))
    }
}

/// The verdict for an engine at `docker_host`: the host's kernel only counts
/// when the daemon listens on a local unix socket.
pub fn vip_support(docker_host: &str) -> VipSupport {
    if !docker_host.starts_with("unix://") {
        return VipSupport::Unknown(format!(
            "the engine at {docker_host} is not on this machine"
        ));
    }
    KernelFacts::read(Path::new("/")).verdict()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        for (p, content) in files {
            let path = d.path().join(p);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, content).unwrap();
        }
        d
    }

    #[test]
    fn a_kernel_without_ipvs_anywhere_cannot_route_vips() {
        let d = tree(&[
            ("proc/net/dev", ""),
            ("proc/sys/kernel/osrelease", "6.18.44\n"),
        ]);
        let v = KernelFacts::read(d.path()).verdict();
        match v {
            VipSupport::Unavailable(why) => {
                assert!(why.contains("/proc/net/ip_vs missing"), "{why}");
                assert!(why.contains("6.18.44"), "{why}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_loaded_or_loadable_ip_vs_module_means_vips_work() {
        let loaded = tree(&[("proc/net/ip_vs", "")]);
        assert_eq!(
            KernelFacts::read(loaded.path()).verdict(),
            VipSupport::Available
        );
        let loadable = tree(&[
            ("proc/net/dev", ""),
            ("proc/sys/kernel/osrelease", "6.1.0\n"),
            (
                "lib/modules/6.1.0/modules.dep",
                "kernel/net/netfilter/ipvs/ip_vs.ko.xz: kernel/net/netfilter/nf_conntrack.ko.xz\n",
            ),
        ]);
        assert_eq!(
            KernelFacts::read(loadable.path()).verdict(),
            VipSupport::Available
        );
        let without = tree(&[
            ("proc/net/dev", ""),
            ("proc/sys/kernel/osrelease", "6.1.0\n"),
            ("lib/modules/6.1.0/modules.dep", "kernel/fs/ext4/ext4.ko:\n"),
        ]);
        assert!(matches!(
            KernelFacts::read(without.path()).verdict(),
            VipSupport::Unavailable(_)
        ));
    }

    #[test]
    fn a_remote_engine_or_a_host_without_proc_is_unknown() {
        assert!(matches!(
            vip_support("tcp://10.0.0.5:2376"),
            VipSupport::Unknown(_)
        ));
        let empty = tree(&[]);
        assert!(matches!(
            KernelFacts::read(empty.path()).verdict(),
            VipSupport::Unknown(_)
        ));
    }
}
