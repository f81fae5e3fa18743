"""Pages for one customer: create (with the while-typing duplicate check), the customer page,
edit, contacts, lifecycle override, collaborators and merge."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse


@login_required
def customer_create(request):
    return HttpResponse("")
