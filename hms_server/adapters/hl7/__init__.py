"""HL7 v2: message building and parsing, MLLP framing, the listener and simulators."""
