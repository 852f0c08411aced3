"""`vbr batch`: one template, many rows of variables, many renders."""
