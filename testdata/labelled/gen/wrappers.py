# Formats for how the gateway logs RAG context and tool results inside the prompt field.
import random, json
R = random.Random(11)
def rag(question, docs):
    """docs: list of (title, text)"""
    k = R.randrange(4)
    if k == 0:
        ctx = '\n\n'.join(f'[doc {i+1}] {t}\n{x}' for i, (t, x) in enumerate(docs))
        return f"Answer using only the context below.\n\nContext:\n{ctx}\n\nQuestion: {question}"
    if k == 1:
        ctx = '\n'.join(f'<document source="{t}">\n{x}\n</document>' for t, x in docs)
        return f"<context>\n{ctx}\n</context>\n\n{question}"
    if k == 2:
        ctx = '\n---\n'.join(f'Source: {t}\n{x}' for t, x in docs)
        return f"{question}\n\n### Retrieved passages\n{ctx}"
    ctx = '\n\n'.join(f'({t})\n"{x}"' for t, x in docs)
    return f"User question: {question}\n\nKnowledge base results:\n{ctx}"

def tool(user, name, result, args=None):
    k = R.randrange(3)
    if k == 0:
        return f"{user}\n\n[tool call] {name}({json.dumps(args or {})})\n[tool result]\n{result}"
    if k == 1:
        return f"User: {user}\nAssistant (calling {name})\nTool output from {name}:\n```\n{result}\n```"
    return f"{user}\n\n<tool_response name=\"{name}\">\n{result}\n</tool_response>"
