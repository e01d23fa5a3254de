"""Tests of the simulators: state machines driven by a hand-advanced clock."""
