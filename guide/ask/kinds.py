"""The kinds of question, each answered its own way: the names every stage uses for them."""

FACT = "fact"  # one or two sentences
OVERVIEW = "overview"  # "How do I become…": a lead and a point per facet
DUTIES = "duties"
CAREER = "career"
HISTORY = "history"
TRENDS = "trends"
CROSS_ROLE = "cross-role"  # "Which roles need a medical degree?": each guide's answer
SITUATION = "situation"  # "I have a master's and two papers, can I…?"
COMPARE = "compare"  # a table of roles by aspect

KINDS = (FACT, OVERVIEW, DUTIES, CAREER, HISTORY, TRENDS, CROSS_ROLE, SITUATION, COMPARE)
# Kinds answered by a lead and cited points drawn from the guides' sections.
STRUCTURED = (OVERVIEW, SITUATION, DUTIES, CAREER, HISTORY, TRENDS, CROSS_ROLE)
# Kinds that ask about a role as a whole: answered whatever their wording's similarity to any one
# passage, when the role is one the guides cover ("What does a clinical professor do day to day?").
ABOUT_A_ROLE = (*STRUCTURED, COMPARE)
# Kinds that ask across the guides ("What are the trends?", "Which roles need an MD?"): a question
# of these kinds that names no role is not read as being about the conversation's role.
ACROSS_GUIDES = (TRENDS, CROSS_ROLE)
