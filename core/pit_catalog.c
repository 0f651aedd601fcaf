/*
 * pit-auth core: the scope catalogue.
 *
 * HighLevel's published scopes (the "Scopes" page of its API docs: the
 * scope column, with the "Access Type" of all of a scope's rows merged),
 * each with the label its Private Integrations page shows an admin.  The
 * table was generated once from that page and is maintained by hand; the
 * labels follow the seed: "View" for .readonly / .read, "Edit" for .write,
 * then the noun from the path ("calendars/events.write" is "Edit Calendar
 * Events"), with odd ones fixed by hand ("medias.readonly" is "View Media").
 *
 * The table is const and sorted bytewise by name, so lookups are a binary
 * search and nothing here is mutable.
 */

#include <string.h>

#include "pit_catalog.h"

#define SUB     "Sub-Account"
#define AGENCY  "Agency"
#define BOTH    "Sub-Account, Agency"

/* -----------------------------------------------------------------------------
 * The table (sorted by name, bytewise)
 * -------------------------------------------------------------------------- */

static const pit_catalog_entry_t pit_catalog_table[] = {
    { "blogs/author.readonly", "View Blog Authors", SUB },
    { "blogs/category.readonly", "View Blog Categories", SUB },
    { "blogs/check-slug.readonly", "View Blog Slugs", SUB },
    { "blogs/list.readonly", "View Blogs", SUB },
    { "blogs/post-update.write", "Update Blog Posts", SUB },
    { "blogs/post.write", "Edit Blog Posts", SUB },
    { "blogs/posts.readonly", "View Blog Posts", SUB },
    { "businesses.readonly", "View Businesses", SUB },
    { "businesses.write", "Edit Businesses", SUB },
    { "calendars.readonly", "View Calendars", SUB },
    { "calendars.write", "Edit Calendars", SUB },
    { "calendars/events.readonly", "View Calendar Events", SUB },
    { "calendars/events.write", "Edit Calendar Events", SUB },
    { "calendars/groups.readonly", "View Calendar Groups", SUB },
    { "calendars/groups.write", "Edit Calendar Groups", SUB },
    { "calendars/resources.readonly", "View Calendar Resources", SUB },
    { "calendars/resources.write", "Edit Calendar Resources", SUB },
    { "campaigns.readonly", "View Campaigns", SUB },
    { "contacts.readonly", "View Contacts", SUB },
    { "contacts.write", "Edit Contacts", SUB },
    { "conversations.readonly", "View Conversations", SUB },
    { "conversations.write", "Edit Conversations", SUB },
    { "conversations/livechat.write", "Edit Conversation Live Chats", SUB },
    { "conversations/message.readonly", "View Conversation Messages", SUB },
    { "conversations/message.write", "Edit Conversation Messages", SUB },
    { "courses.write", "Edit Courses", SUB },
    { "emails/builder.readonly", "View Email Builder", SUB },
    { "emails/builder.write", "Edit Email Builder", SUB },
    { "emails/schedule.readonly", "View Email Schedules", BOTH },
    { "forms.readonly", "View Forms", SUB },
    { "funnels/funnel.readonly", "View Funnels", SUB },
    { "funnels/page.readonly", "View Funnel Pages", SUB },
    { "funnels/pagecount.readonly", "View Funnel Page Counts", SUB },
    { "funnels/redirect.readonly", "View Funnel Redirects", SUB },
    { "funnels/redirect.write", "Edit Funnel Redirects", SUB },
    { "invoices.readonly", "View Invoices", SUB },
    { "invoices.write", "Edit Invoices", SUB },
    { "invoices/schedule.readonly", "View Invoice Schedules", SUB },
    { "invoices/schedule.write", "Edit Invoice Schedules", SUB },
    { "invoices/template.readonly", "View Invoice Templates", SUB },
    { "invoices/template.write", "Edit Invoice Templates", SUB },
    { "links.readonly", "View Links", SUB },
    { "links.write", "Edit Links", SUB },
    { "locations.readonly", "View Locations", BOTH },
    { "locations.write", "Edit Locations", AGENCY },
    { "locations/customFields.readonly", "View Location Custom Fields", SUB },
    { "locations/customFields.write", "Edit Location Custom Fields", SUB },
    { "locations/customValues.readonly", "View Location Custom Values", SUB },
    { "locations/customValues.write", "Edit Location Custom Values", SUB },
    { "locations/tags.readonly", "View Location Tags", SUB },
    { "locations/tags.write", "Edit Location Tags", SUB },
    { "locations/tasks.readonly", "View Location Tasks", SUB },
    { "locations/templates.readonly", "View Location Templates", SUB },
    { "medias.readonly", "View Media", SUB },
    { "medias.write", "Edit Media", SUB },
    { "oauth.readonly", "View OAuth", AGENCY },
    { "oauth.write", "Edit OAuth", AGENCY },
    { "objects/record.readonly", "View Object Records", SUB },
    { "objects/record.write", "Edit Object Records", SUB },
    { "objects/schema.readonly", "View Object Schemas", SUB },
    { "objects/schema.write", "Edit Object Schemas", SUB },
    { "opportunities.readonly", "View Opportunities", SUB },
    { "opportunities.write", "Edit Opportunities", SUB },
    { "payments/integration.readonly", "View Payment Integrations", SUB },
    { "payments/integration.write", "Edit Payment Integrations", SUB },
    { "payments/orders.readonly", "View Payment Orders", SUB },
    { "payments/orders.write", "Edit Payment Orders", SUB },
    { "payments/subscriptions.readonly", "View Payment Subscriptions", SUB },
    { "payments/transactions.readonly", "View Payment Transactions", SUB },
    { "products.readonly", "View Products", SUB },
    { "products.write", "Edit Products", SUB },
    { "products/prices.readonly", "View Product Prices", SUB },
    { "products/prices.write", "Edit Product Prices", SUB },
    { "saas/company.write", "Edit SaaS Companies", BOTH },
    { "saas/location.read", "View SaaS Locations", BOTH },
    { "saas/location.write", "Edit SaaS Locations", BOTH },
    { "snapshots.readonly", "View Snapshots", AGENCY },
    { "socialplanner/account.readonly", "View Social Planner Accounts", SUB },
    { "socialplanner/account.write", "Edit Social Planner Accounts", SUB },
    { "socialplanner/category.readonly", "View Social Planner Categories",
      SUB },
    { "socialplanner/csv.readonly", "View Social Planner CSVs", SUB },
    { "socialplanner/csv.write", "Edit Social Planner CSVs", SUB },
    { "socialplanner/oauth.readonly", "View Social Planner OAuth", SUB },
    { "socialplanner/oauth.write", "Edit Social Planner OAuth", SUB },
    { "socialplanner/post.readonly", "View Social Planner Posts", SUB },
    { "socialplanner/post.write", "Edit Social Planner Posts", SUB },
    { "socialplanner/tag.readonly", "View Social Planner Tags", SUB },
    { "surveys.readonly", "View Surveys", SUB },
    { "users.readonly", "View Users", BOTH },
    { "users.write", "Edit Users", BOTH },
    { "workflows.readonly", "View Workflows", SUB },
};

#define PIT_CATALOG_N \
    (sizeof(pit_catalog_table) / sizeof(pit_catalog_table[0]))

/* -----------------------------------------------------------------------------
 * Lookup
 * -------------------------------------------------------------------------- */

/* Returns the catalogue, sorted by name; *n receives its length. */
const pit_catalog_entry_t *pit_catalog(size_t *n) {
    if (n != NULL) *n = PIT_CATALOG_N;
    return pit_catalog_table;
}

/*
 * Returns <0, 0 or >0 as name compares bytewise below, equal to or above
 * s[0..len).
 */
static int pit_catalog_cmp(const char *name, const char *s, size_t len) {
    size_t  nlen = strlen(name);
    int     r = memcmp(name, s, nlen < len ? nlen : len);

    if (r != 0) return r;
    return (nlen > len) - (nlen < len);
}

/* Returns the entry for s[0..len), or NULL if the catalogue lacks it. */
const pit_catalog_entry_t *pit_catalog_find(const char *s, size_t len) {
    size_t lo = 0, hi = PIT_CATALOG_N;

    if (s == NULL) return NULL;

    while (lo < hi) {
        size_t  mid = lo + (hi - lo) / 2;
        int     r = pit_catalog_cmp(pit_catalog_table[mid].name, s, len);

        if (r == 0) return &pit_catalog_table[mid];
        if (r < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return NULL;
}
