"""Transfer (移交) packages: kept posts with their WARC records, metadata and proof of integrity,
as a bag (BagIt) of WACZ files, DA/T 46 metadata, a register and a transfer form.

``create.create_package`` writes one from the catalog; ``verify.verify_package`` checks one
without the catalog (the receiving archive runs it). Modules: ``selection`` (kept posts only),
``contents`` (their records and files), ``metadata_xml``, ``register``, ``sm3_manifest``, ``bag``,
``form_data`` (what the 移交登记表 states; the face renders it), ``record`` (the catalog's table).
"""
