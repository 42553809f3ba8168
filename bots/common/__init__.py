"""What every chat adapter shares, so a second platform adds only translation:
the interaction runner (`interactions`), the reply presenter protocol
(`presenter`) and text fitting that knows no platform (`fitting`)."""
