"""The sandbox worker's filesystem view, set up once inside its private mount namespace.

Only used by worker.py as root in a namespace it owns: nothing here changes the host's mounts.
The worker pivots into a new root that holds only what programs and compilers need: /usr (the
system toolchains), the other toolchain roots it is given (Python, rustup's sysroot,
.toolchains), the /etc entries toolchains read (ETC_KEEP), /dev, /proc and a size-capped /tmp
(the disk cap) for the work dirs. Homes, the studio's data dir, the checkout, /etc and every
other host file are simply absent, and everything but /tmp is read-only: a program (or a
compiler told to `#include` a host file) can read nothing but its own files and the toolchains,
and change nothing outside its work dir.
"""
from __future__ import annotations

import ctypes
import os
from typing import Any

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_REMOUNT, MS_BIND, MS_REC = 1, 2, 4, 32, 4096, 16384

_libc = ctypes.CDLL(None, use_errno=True)


def _mount(source: str, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    if _libc.mount(source.encode(), target.encode(), fstype.encode() if fstype else None,
                   ctypes.c_ulong(flags), data.encode() if data else None) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"mount {target}: {os.strerror(err)}")


def _umount(target: str) -> None:
    _libc.umount2(target.encode(), 2)  # MNT_DETACH


def setup_filesystem(config: dict[str, Any]) -> None:
    """A new root holding only the toolchains (config["keep"], /usr and the few /etc entries
    they read), /dev, /proc and a private size-capped /tmp; the worker pivots into it, so every
    program and compiler sees only its own work dir and the toolchains."""
    disk = f"size={int(config['disk_mb'])}m,mode=711"
    base = "/var/tmp" if os.path.isdir("/var/tmp") else "/tmp"
    _mount("tmpfs", base, "tmpfs", MS_NOSUID | MS_NODEV, "size=4m,mode=755")
    root = os.path.join(base, "root")
    os.mkdir(root, 0o755)
    _mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "size=4m,mode=755")
    for name in sorted(os.listdir("/")):   # merged-/usr symlinks (bin -> usr/bin) keep working
        if os.path.islink("/" + name) and os.readlink("/" + name).lstrip("/").startswith("usr"):
            os.symlink(os.readlink("/" + name), os.path.join(root, name))
    for top in ("usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        if os.path.isdir("/" + top) and not os.path.islink("/" + top):
            _bind(root, "/" + top)
    os.mkdir(os.path.join(root, "etc"), 0o755)
    for entry in ETC_KEEP + tuple(sorted(f for f in os.listdir("/etc") if f.startswith("java-"))):
        if os.path.exists("/etc/" + entry):
            _bind(root, "/etc/" + entry)
    with open(os.path.join(root, "etc", "passwd"), "w") as fh:   # tools that look up the uid
        fh.write("root:x:0:0:root:/:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/sh\n")
    _bind(root, "/dev", read_only=False)
    for path in ("/dev/shm",):
        if os.path.isdir(root + path):
            _mount("tmpfs", root + path, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=755")
    _bind(root, "/proc", read_only=False)
    os.makedirs(os.path.join(root, "tmp"), exist_ok=True)
    _mount("tmpfs", os.path.join(root, "tmp"), "tmpfs", MS_NOSUID | MS_NODEV, disk)
    os.makedirs(os.path.join(root, "var", "tmp"), exist_ok=True)
    # Toolchains outside /usr (Python, rustup, .toolchains — also a checkout under /tmp), at the
    # path they are known by and at their real path, on top of the private /tmp.
    for path in sorted({p for k in config["keep"] for p in (k, os.path.realpath(k))}, key=len):
        if os.path.isdir(path) and not any(_under(path, "/" + t) for t in ("usr", "etc", "dev", "proc")):
            _bind(root, path)
    _pivot(root)
    make_read_only(writable=("/tmp", "/proc", "/dev"))


# What the toolchains read from /etc: the dynamic linker's cache, the alternatives symlinks
# (cc, java …) and the JDK's config (java-*); nothing else of the host's /etc is visible.
ETC_KEEP = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "alternatives", "localtime")


def _bind(root: str, path: str, read_only: bool = True) -> None:
    target = root + path
    if os.path.isdir(path):
        os.makedirs(target, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(target), exist_ok=True)
        open(target, "a").close()
    _mount(path, target, None, MS_BIND | MS_REC)
    if read_only:
        # Keep the flags the source mount has (in a user namespace they are locked and a remount
        # that drops one is refused); make_read_only covers whatever this misses.
        flags = os.statvfs(target).f_flag & (MS_NOSUID | MS_NODEV | 8 | 1024 | 2048)
        try:
            _mount("none", target, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | flags)
        except OSError:
            _mount("none", target, None, MS_REMOUNT | MS_BIND | MS_RDONLY | flags)


SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41, "arm64": 41}


def _pivot(root: str) -> None:
    """Make `root` the filesystem root and drop the old one entirely (a chroot alone could be
    left by a process that is root in the namespace)."""
    os.chdir(root)
    number = SYS_PIVOT_ROOT.get(os.uname().machine)
    if number is None or _libc.syscall(number, b".", b".") != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"pivot_root: {os.strerror(err) if number else 'unknown architecture'}")
    _umount(".")   # the old root, stacked under the new one
    os.chdir("/")


def make_read_only(writable: tuple[str, ...]) -> bool:
    """Remount every other mount read-only in our namespace (the host's mounts are untouched):
    nothing outside the work dir can be changed or deleted, even in world-writable dirs."""
    keep_flags = {"nosuid": MS_NOSUID, "nodev": MS_NODEV, "noexec": 8, "noatime": 1024,
                  "nodiratime": 2048, "relatime": 1 << 21}
    with open("/proc/self/mountinfo") as fh:
        mounts = [line.split() for line in fh]
    root_done = False
    for fields in mounts:
        point = fields[4].encode().decode("unicode_escape")
        if any(_under(point, w) for w in writable if w != "/"):
            continue
        flags = MS_REMOUNT | MS_BIND | MS_RDONLY
        for opt in fields[5].split(","):
            flags |= keep_flags.get(opt, 0)
        try:
            _mount("none", point, None, flags)
            root_done = root_done or point == "/"
        except OSError:
            if point == "/":
                raise
    return root_done


def _under(path: str, parent: str) -> bool:
    return path == parent or path.startswith(parent.rstrip("/") + "/")


def probe_network_isolated() -> bool:
    try:
        with open("/proc/self/net/dev") as fh:
            names = [line.split(":")[0].strip() for line in fh.readlines()[2:]]
        return names == ["lo"] or names == []
    except OSError:
        return False
