"""Build /work/corpus15/*.jsonl from the genre modules in this directory."""
import importlib, json, os, sys
sys.path.insert(0, os.path.dirname(__file__))
import common

GENRES = ["tickets", "hr", "medical", "hl7", "finance", "tables", "configs", "logs", "code", "docs", "chat",
          "lookalikes", "international", "forms", "incidents", "mail"]
OUT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

def main():
    for g in GENRES:
        try:
            mod = importlib.import_module({"code": "codereview"}.get(g, g))
        except ModuleNotFoundError:
            print("missing", g); continue
        recs = []
        for e in mod.E:
            for _ in range(e.get("n", 1)):
                text, ents = common.fill(e["t"], e.get("region"))
                r = {"text": text, "entities": ents, "category": e.get("cat") or mod.CAT}
                if e.get("note"):
                    r["note"] = e["note"]
                recs.append(r)
        with open(os.path.join(OUT, g + ".jsonl"), "w", encoding="utf-8") as f:
            for r in recs:
                f.write(json.dumps(r, ensure_ascii=False) + "\n")
        print(g, len(recs))

if __name__ == "__main__":
    main()
