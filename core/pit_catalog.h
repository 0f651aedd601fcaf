/*
 * pit-auth core: the scope catalogue (HighLevel's published scopes) with
 * the labels an admin sees ("contacts.readonly" is "View Contacts").
 */

#ifndef PIT_CATALOG_H
#define PIT_CATALOG_H

#include <stddef.h>

typedef struct {
    const char  *name;        /* "calendars/events.write" */
    const char  *label;       /* "Edit Calendar Events" */
    const char  *access;      /* "Sub-Account", "Agency" or both */
} pit_catalog_entry_t;

/* Returns the catalogue, sorted by name; *n receives its length. */
const pit_catalog_entry_t *pit_catalog(size_t *n);

/* Returns the entry for s[0..len), or NULL if the catalogue lacks it. */
const pit_catalog_entry_t *pit_catalog_find(const char *s, size_t len);

#endif /* PIT_CATALOG_H */
