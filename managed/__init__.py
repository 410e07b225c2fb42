"""Cases the agency submits to Debitura's network as managing partner, and following them."""
