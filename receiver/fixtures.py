"""The example notifications of a checkout, ``fixtures/<vendor>/``: which there are, and which
endpoint takes each one (as the vendor's folder declares: ``Vendor.fixture_endpoints``).

``receiver send-test`` sends them; the tests post every one of them against its golden file
(``<name>.expected.json``, next to it) and seed the fuzz suite with them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from receiver.vendors import BY_NAME, VENDORS, Vendor

FIXTURES_DIR = Path(__file__).resolve().parent.parent / "fixtures"
GOLDEN_SUFFIX = ".expected.json"
SUFFIXES = (".json", ".xml")


@dataclass(frozen=True)
class Fixture:
    """One example notification of a vendor."""

    path: Path
    vendor: Vendor

    @property
    def endpoint(self) -> str:
        """Where it is posted: ``/hooks/<endpoint>``."""
        return self.vendor.fixture_endpoint(self.path.name)

    @property
    def is_xml(self) -> bool:
        return self.path.suffix == ".xml"

    @property
    def content_type(self) -> str:
        return "application/xml" if self.is_xml else "application/json"


def fixture_files(vendor: str, suffixes: tuple[str, ...] = SUFFIXES) -> list[Path]:
    """A vendor's fixtures (``fixtures/<vendor>/``), without their golden files."""
    folder = FIXTURES_DIR / vendor
    if not folder.is_dir():
        return []
    return sorted(
        path
        for path in folder.iterdir()
        if path.suffix in suffixes and not path.name.endswith(GOLDEN_SUFFIX)
    )


def fixtures_of(vendor: Vendor) -> list[Fixture]:
    return [Fixture(path, vendor) for path in fixture_files(vendor.name)]


def fixture_at(path: Path, vendor: Vendor) -> Fixture:
    """The file at ``path`` as a fixture: of the vendor whose folder holds it, else ``vendor``'s."""
    return Fixture(path, BY_NAME.get(path.resolve().parent.name, vendor))


def vendors_with(name: str) -> list[Vendor]:
    """The vendors that have a fixture called ``name``."""
    return [vendor for vendor in VENDORS if (FIXTURES_DIR / vendor.name / name).is_file()]
