"""History: versions, the head pointer, payloads, snapshots, reconstruction and verify."""
