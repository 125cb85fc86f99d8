"""The household CA as an iOS/iPadOS configuration profile (.mobileconfig).

Safari downloads it, Settings shows "Profile Downloaded", and installing it adds the CA. iOS then asks
for one more switch: Settings > General > About > Certificate Trust Settings > enable full trust.
The profile is not signed (Settings says "Not Signed"); the household compares the SHA-256 fingerprint
shown on the Connect a phone page instead.
"""

from __future__ import annotations

import plistlib
import uuid

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from assistant.https.certificates import certificate_fingerprint

# A fixed namespace: the same CA always gives the same payload identifiers, so installing the profile
# again replaces the old one instead of adding a second copy.
_NAMESPACE = uuid.UUID("6f1d4c8e-2d4b-4a55-9c0e-8a3d2f1b7e10")


def mobileconfig_build(*, ca_cert: x509.Certificate, household: str = "Hearth") -> bytes:
    """The XML property list of a configuration profile carrying one root certificate."""
    fingerprint = certificate_fingerprint(ca_cert)
    der = ca_cert.public_bytes(serialization.Encoding.DER)
    certificate_payload = {
        "PayloadType": "com.apple.security.root",
        "PayloadVersion": 1,
        "PayloadIdentifier": f"home.hearth.ca.{fingerprint.replace(':', '')[:16].lower()}",
        "PayloadUUID": str(uuid.uuid5(_NAMESPACE, f"certificate:{fingerprint}")).upper(),
        "PayloadDisplayName": f"{household} household certificate",
        "PayloadDescription": "Lets this device open Hearth on your home network over HTTPS.",
        "PayloadCertificateFileName": "hearth-ca.crt",
        "PayloadContent": der,
    }
    profile = {
        "PayloadType": "Configuration",
        "PayloadVersion": 1,
        "PayloadIdentifier": "home.hearth.profile",
        "PayloadUUID": str(uuid.uuid5(_NAMESPACE, f"profile:{fingerprint}")).upper(),
        "PayloadDisplayName": f"{household} (home network)",
        "PayloadDescription": (
            "Installs the certificate of the Hearth on your home network. "
            f"Its SHA-256 fingerprint is {fingerprint}."
        ),
        "PayloadOrganization": household,
        "PayloadRemovalDisallowed": False,
        "PayloadContent": [certificate_payload],
    }
    return plistlib.dumps(profile, fmt=plistlib.FMT_XML)
