def X(t, cat=None, note=None, region=None, n=1):
    return {"t": t, "cat": cat, "note": note, "region": region, "n": n}
