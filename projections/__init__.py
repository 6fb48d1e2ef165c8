"""Read models built from the event stream, with tracked positions; rebuildable at any time."""
