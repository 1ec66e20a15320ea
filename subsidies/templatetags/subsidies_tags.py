from django import template

register = template.Library()


@register.filter
def award_facts(facts):
    """``{% for label, value in award.facts|award_facts %}``: an award's frozen facts, labelled and readable
    (``subsidies.eligibility.facts_display``; two queries)."""
    from subsidies.eligibility import facts_display

    return facts_display(facts or {})
