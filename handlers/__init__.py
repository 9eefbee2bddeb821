"""Channel-agnostic conversations: a normalised inbound event in, outbound messages with choices out."""
