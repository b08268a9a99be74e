"""Loading data into the registry: districts from files, school lists in and out."""
