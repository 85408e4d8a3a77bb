"""The bytes: WARC files, fixity, manifests, the audit log, and verification."""
