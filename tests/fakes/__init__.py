"""Test doubles of the platforms hdops talks to (`Fake<Thing>`), served on 127.0.0.1."""
