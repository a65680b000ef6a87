from django.urls import path

from tickets.kb import views

app_name = "kb"
urlpatterns = [
    path("", views.index, name="index"),
    path("suggest.json", views.suggest, name="suggest"),
    path("<slug:slug>/", views.article, name="article"),
]
