"""The reader's text, shared by the stages that read it: noise rules and fingerprints, word matching and word changes."""
