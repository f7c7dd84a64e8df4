"""File dialogs and the questions around them."""
