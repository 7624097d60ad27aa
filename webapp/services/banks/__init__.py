"""Hash banks: banks and their entries, hash-list imports, the PDQ index, matching, review banking."""
