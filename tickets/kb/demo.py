"""Demo help articles (a few per example policy, some public) and a maintenance release.

Idempotent: articles are found by slug, the release by version. Written through the services,
so each has its rendered body, search vector and first revision.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.models import User
from django.utils import timezone

from plans.models import Plan, Resolution
from tickets.kb.models import Article, ArticleCategory, ArticleTag, Visibility
from tickets.kb.services import article_publish, article_save
from tickets.models import OPEN_STATUSES, Release, Ticket
from tickets.releases.services import release_plan_ticket

CATEGORIES = (
    ("getting-started", "Getting started"),
    ("troubleshooting", "Troubleshooting"),
    ("account-and-billing", "Account and billing"),
    ("api-and-integrations", "API and integrations"),
)

# (slug, title, category, tags, visibility, plan slugs, summary, body)
ARTICLES: tuple[tuple[Any, ...], ...] = (
    (
        "site-down-first-checks",
        "Your site is down: what to check before you call",
        "troubleshooting",
        ["outage", "status"],
        Visibility.PUBLIC,
        [],
        "Five checks that tell you within minutes whether the outage is yours or ours.",
        "If your **production site is down for all users**, check these first:\n\n"
        "1. Open the status page: a platform outage is listed there within five minutes.\n"
        "2. Try the site from a phone on mobile data, to rule out your office network.\n"
        "3. Check that your DNS records still point to us (`dig +short www.example.com`).\n"
        "4. Look at your last deploy: roll it back if the outage started right after it.\n"
        "5. Check the TLS certificate's expiry date.\n\n"
        "Still down? Open a **severity 1** ticket (or call, if your plan has phone support) and "
        "tell us the URL, the time it started and what you already checked.",
    ),
    (
        "slow-checkout-cache",
        "Checkout or pages are very slow: clearing the cache",
        "troubleshooting",
        ["performance", "cache"],
        Visibility.PUBLIC,
        [],
        "Most slowness after a release comes from a stale cache.",
        "When checkout or other pages become **very slow** after a release, the page cache is "
        "usually serving stale fragments and rebuilding them on every request.\n\n"
        "## Clear the cache\n\n"
        "1. Sign in to the dashboard and open **Settings → Performance**.\n"
        "2. Choose **Purge all** and wait two minutes.\n"
        "3. Load the checkout twice: the second load should take under a second.\n\n"
        "## Still slow?\n\n"
        "Measure a page with your browser's developer tools (Network tab) and send us the "
        "slowest request in a ticket.",
    ),
    (
        "image-upload-fails",
        "Images fail to upload",
        "troubleshooting",
        ["uploads", "media"],
        Visibility.CUSTOMERS,
        [],
        "File size, type and name limits for uploads, and how to fix a failing upload.",
        "Uploads fail when a file breaks one of these limits:\n\n"
        "| Limit | Value |\n|---|---|\n| Size | 10 MB per file |\n"
        "| Types | JPEG, PNG, GIF, WebP, SVG |\n| Name | letters, digits, `-` and `_` |\n\n"
        "Resize large photos before uploading, and rename files with spaces or accents. If one "
        "page refuses every image, clear the cache (see *Checkout or pages are very slow*).",
    ),
    (
        "export-your-data",
        "Exporting your data",
        "account-and-billing",
        ["export", "data"],
        Visibility.CUSTOMERS,
        [],
        "Download your content and orders as CSV or JSON.",
        "Go to **Settings → Export**, pick CSV or JSON and the date range, and press "
        "**Export**. Large exports are e-mailed to you as a link, valid for seven days.\n\n"
        "Exports include content, orders and customers; attachments are exported separately.",
    ),
    (
        "change-header-logo",
        "How do I change the logo in the header?",
        "getting-started",
        ["branding", "theme"],
        Visibility.PUBLIC,
        [],
        "Upload a new logo in the theme settings.",
        "Open **Appearance → Theme → Header**, upload your logo (SVG or PNG, at least 240 px "
        "wide) and press **Save**. The new logo shows within a minute; clear your browser's "
        "cache if you still see the old one.",
    ),
    # Agency: support hours and what is billed.
    (
        "agency-support-hours-explained",
        "How your monthly support hours are counted",
        "account-and-billing",
        ["support hours", "billing"],
        Visibility.PLANS,
        ["agency-10h", "agency-20h", "agency-40h"],
        "What draws on your hours, rollover and overage.",
        "Every minute an engineer spends on your tickets draws on your plan's **monthly support "
        "hours**. Unused hours do not roll over to the next month. Time beyond your hours is "
        "billed as overage at your contract's hourly rate; by agreement two months may be "
        "pooled.\n\nYou can follow the hours used on your **Plan** page.",
    ),
    (
        "agency-what-support-covers",
        "What support covers, and what it does not",
        "getting-started",
        ["scope"],
        Visibility.CUSTOMERS,
        [],
        "Bugs and questions yes; redesigns and new features are projects.",
        "Support covers **bugs, outages and questions** about what we built for you. Redesigns, "
        "new pages and new features are not support: ask your account manager for a quote. A "
        "ticket asking for them is closed as out of scope, with the reason.",
    ),
    # Moboom: self-help resources on every plan.
    (
        "moboom-publish-mobile-site",
        "Publishing your mobile site",
        "getting-started",
        ["mobile", "publishing"],
        Visibility.PLANS,
        ["moboom-premium", "moboom-partner"],
        "From preview to live in three steps.",
        "1. In the editor press **Preview** and check every page on a phone.\n"
        "2. Press **Publish**; the site goes live on your domain within two minutes.\n"
        "3. If your domain shows the old site, purge the cache (see *Checkout or pages are very "
        "slow*).",
    ),
    # OpenBack: "Documentation - FAQs, Searchable".
    (
        "openback-push-not-delivered",
        "Push notifications are not delivered",
        "troubleshooting",
        ["push", "notifications", "sdk"],
        Visibility.CUSTOMERS,
        [],
        "Check the SDK key, the device's permission and the sending window.",
        "When **push notifications are not delivered**:\n\n"
        "- Check that the app uses the SDK key of the right environment (test or live).\n"
        "- Check the device allows notifications for the app.\n"
        "- Check the campaign's sending window and time zone.\n\n"
        "Send us the device's SDK log (`OpenBack.debugLog()`) in a ticket if all three are "
        "right.",
    ),
    (
        "openback-sdk-upgrade",
        "Upgrading the SDK",
        "api-and-integrations",
        ["sdk", "upgrade"],
        Visibility.PUBLIC,
        [],
        "Upgrade notes and the order to do it in.",
        "Upgrade the SDK one major version at a time. Read the changelog for each version, "
        "update the dependency, rebuild, and test a campaign on a test device before releasing "
        "your app.",
    ),
    # Prismic: developer support, issue reports, maintenance releases.
    (
        "prismic-api-rate-limits",
        "API rate limits and retries",
        "api-and-integrations",
        ["api", "rate limits"],
        Visibility.PUBLIC,
        [],
        "How many requests per second, and how to retry.",
        "The content delivery API answers up to **200 requests per second** per repository. "
        "Beyond that it answers `429 Too Many Requests` with a `Retry-After` header: wait that "
        "many seconds, then retry with exponential backoff.",
    ),
    (
        "prismic-maintenance-releases",
        "Fixes shipped in maintenance releases",
        "getting-started",
        ["releases", "severity"],
        Visibility.PLANS,
        ["prismic-enterprise-premium"],
        "Category 3 issues are fixed in a regularly scheduled maintenance release.",
        "Issues that do not severely impact production (**category 3**) are resolved as time "
        "permits and made available in a regularly scheduled maintenance release. Your ticket "
        "shows the release its fix is planned for; when the release is published the ticket is "
        "resolved and you get an e-mail.",
    ),
    (
        "prismic-webhook-retries",
        "Webhooks: delivery and retries",
        "api-and-integrations",
        ["api", "webhooks"],
        Visibility.CUSTOMERS,
        [],
        "When a webhook is retried, and for how long.",
        "A webhook is retried when your endpoint does not answer `2xx` within 10 seconds: after "
        "1, 5, 15 and 60 minutes, then it is marked failed in **Settings → Webhooks**, where you "
        "can trigger it again.",
    ),
    # Vmoso: priority levels and escalations.
    (
        "vmoso-choosing-priority",
        "Choosing the right priority",
        "getting-started",
        ["priority", "severity"],
        Visibility.PLANS,
        ["vmoso-standard"],
        "Priority 1 is for outages; support may ask you to clarify.",
        "Choose **priority 1** only when the service is down or unusable for all users. "
        "Support may ask you to clarify the priority you chose; you may request an escalation "
        "for priorities 2 to 4 from the ticket page.",
    ),
)


def seed_articles(*, author: User) -> int:
    """The demo articles, published; returns how many were created."""
    categories = {
        slug: ArticleCategory.objects.get_or_create(
            slug=slug, defaults={"name": name, "position": position}
        )[0]
        for position, (slug, name) in enumerate(CATEGORIES)
    }
    created = 0
    for slug, title, category, tags, visibility, plans, summary, body in ARTICLES:
        if Article.objects.filter(slug=slug).exists():
            continue
        plan_rows = list(Plan.objects.filter(slug__in=plans))
        if plans and not plan_rows:
            continue  # the policy naming these plans was not loaded
        article = article_save(
            article=Article(
                slug=slug,
                title=title,
                summary=summary,
                body=body,
                category=categories[category],
                visibility=visibility,
            ),
            by=author,
            note="Demo article",
        )
        article.tags.set(
            ArticleTag.objects.get_or_create(slug=tag.replace(" ", "-"), defaults={"name": tag})[0]
            for tag in tags
        )
        article.plans.set(plan_rows)
        article_publish(article=article, by=author)
        created += 1
    return created


def seed_release(*, agent: User) -> Release:
    """Release 4.2, planned; open tickets whose severity is fixed in a maintenance release are
    planned for it."""
    release, _ = Release.objects.get_or_create(
        version="4.2",
        defaults={"notes": "Search relevance fixes; image upload retries; faster exports."},
    )
    if release.planned_on is None:
        release.planned_on = timezone.localdate() + dt.timedelta(days=14)
        release.save(update_fields=["planned_on"])
    waiting = Ticket.objects.filter(
        status__in=OPEN_STATUSES,
        release__isnull=True,
        severity__resolution=Resolution.MAINTENANCE_RELEASE,
    )
    for ticket in waiting:
        release_plan_ticket(ticket=ticket, release=release, by=agent)
    return release
