"""Rebuild the evaluation library in bench/data/docs/ from what Debian installed on this machine.

    python bench/data/build_library.py [--out bench/data/docs]

Man pages are rendered to PDF by groff (`man -Tpdf`; Debian's `groff` package provides gropdf); some
are written out as Word documents with python-docx from their plain-text rendering (`man -Tutf8`
at a width of 1,000 columns, so each paragraph is one line); HTML, Markdown and text manuals are
copied (gunzipped) from /usr/share/doc. PROVENANCE.md names each file's package, version and licence.
The PDF bytes depend on the groff version, so a rebuild on another Debian release differs slightly.
"""

from __future__ import annotations

import argparse
import gzip
import re
import shutil
import subprocess
from pathlib import Path

# (file name, man section, page)
PDF_PAGES = [
    ("tar.pdf", "1", "tar"), ("rsync.pdf", "1", "rsync"), ("ssh.pdf", "1", "ssh"),
    ("ssh_config.pdf", "5", "ssh_config"), ("grep.pdf", "1", "grep"), ("find.pdf", "1", "find"),
    ("curl.pdf", "1", "curl"), ("wget.pdf", "1", "wget"), ("systemctl.pdf", "1", "systemctl"),
    ("journalctl.pdf", "1", "journalctl"), ("ip.pdf", "8", "ip"), ("chmod.pdf", "1", "chmod"),
    ("df.pdf", "1", "df"), ("du.pdf", "1", "du"), ("gzip.pdf", "1", "gzip"), ("xz.pdf", "1", "xz"),
    ("less.pdf", "1", "less"), ("fstab.pdf", "5", "fstab"), ("useradd.pdf", "8", "useradd"),
    ("apt-get.pdf", "8", "apt-get"), ("logrotate.pdf", "8", "logrotate"), ("tmux.pdf", "1", "tmux"),
    ("systemd.timer.pdf", "5", "systemd.timer"), ("journald.conf.pdf", "5", "journald.conf"),
    ("sqlite3.pdf", "1", "sqlite3"), ("sed.pdf", "1", "sed"),
]  # fmt: skip
DOCX_PAGES = [
    ("scp.docx", "1", "scp"), ("zip.docx", "1", "zip"), ("unzip.docx", "1", "unzip"),
    ("lsblk.docx", "8", "lsblk"), ("systemd.service.docx", "5", "systemd.service"), ("dpkg.docx", "1", "dpkg"),
]  # fmt: skip
COPIES = [
    ("socat.html", "/usr/share/doc/socat/socat.html"),
    ("users-and-groups.html", "/usr/share/doc/base-passwd/users-and-groups.html"),
    ("python-policy.html", "/usr/share/doc/python3/python-policy.html"),
    ("zlib_how.html", "/usr/share/doc/zlib1g-dev/examples/zlib_how.html"),
    ("fontconfig-user.html", "/usr/share/doc/fontconfig/fontconfig-user.html"),
    ("espeak-ng-voices.html", "/usr/share/doc/espeak-ng/docs/voices.html"),
    ("node-path.md", "/usr/share/doc/nodejs/api/path.md"),
    ("node-timers.md", "/usr/share/doc/nodejs/api/timers.md"),
    ("node-dns.md", "/usr/share/doc/nodejs/api/dns.md"),
    ("node-os.md", "/usr/share/doc/nodejs/api/os.md"),
    ("systemd-ENVIRONMENT.md", "/usr/share/doc/systemd/ENVIRONMENT.md.gz"),
    ("systemd-UIDS-GIDS.md", "/usr/share/doc/systemd/UIDS-GIDS.md.gz"),
    ("redis-README.md", "/usr/share/doc/redis-server/README.md.gz"),
    ("tcp-wrappers-README.txt", "/usr/share/doc/libwrap0/README.gz"),
    ("xz-utils-README.txt", "/usr/share/doc/xz-utils/README.gz"),
    ("systemd-README.txt", "/usr/share/doc/systemd/README.gz"),
]


def man_pdf(section: str, page: str) -> bytes:
    return subprocess.run(["man", "-Tpdf", section, page], check=True, capture_output=True).stdout


def man_text(section: str, page: str) -> list[str]:
    rendered = subprocess.run(
        ["man", section, page], check=True, capture_output=True, env={"MANWIDTH": "1000", "PATH": "/usr/bin:/bin"}
    ).stdout
    plain = subprocess.run(["col", "-bx"], input=rendered, check=True, capture_output=True).stdout
    return plain.decode("utf-8").splitlines()


def docx_from_man(section: str, page: str, target: Path) -> None:
    """A Word document as a person would write it: a title, Heading 1 per section, Heading 2 per subsection."""
    import docx

    lines = man_text(section, page)
    document = docx.Document()
    document.add_heading(f"{page}({section})", level=0)
    for line in lines[1:-1]:  # the first and last lines are the man page's header and footer
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip(" "))
        text = re.sub(r"\s{2,}", "  ", line.strip())
        if indent == 0:
            document.add_heading(text.title() if text.isupper() else text, level=1)
        elif indent <= 3:
            document.add_heading(text, level=2)
        else:
            paragraph = document.add_paragraph()
            term, gap, rest = text.partition("  ")
            if gap and term.startswith("-") and len(term) < 40:
                paragraph.add_run(term).bold = True
                paragraph.add_run("  " + rest)
            else:
                paragraph.add_run(text)
    document.save(str(target))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "docs")
    out: Path = parser.parse_args().out
    out.mkdir(parents=True, exist_ok=True)
    for name, section, page in PDF_PAGES:
        (out / name).write_bytes(man_pdf(section, page))
    for name, section, page in DOCX_PAGES:
        docx_from_man(section, page, out / name)
    for name, source in COPIES:
        if source.endswith(".gz"):
            (out / name).write_bytes(gzip.decompress(Path(source).read_bytes()))
        else:
            shutil.copyfile(source, out / name)
    print(f"{len(PDF_PAGES) + len(DOCX_PAGES) + len(COPIES)} documents in {out}")


if __name__ == "__main__":
    main()
