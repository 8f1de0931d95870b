"""One TLS policy for every client: verify by default, explicit CA file, no silent downgrade."""

from lib_common.tls.bundle import SYSTEM_BUNDLE_CANDIDATES, locate_ca_bundle
from lib_common.tls.errors import TLSConfigError
from lib_common.tls.policy import TLSPolicy

__all__ = ["SYSTEM_BUNDLE_CANDIDATES", "TLSConfigError", "TLSPolicy", "locate_ca_bundle"]
