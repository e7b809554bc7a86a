/* struct folio fields that changed between 6.1 and 6.18, read through
 * CO-RE flavors so one object runs on both. The pointer may be trusted
 * (a tp_btf argument) or a bpf_rdonly_cast view: loads stay direct. */
#ifndef BPFITER_FOLIO_BPF_H
#define BPFITER_FOLIO_BPF_H

/* flags: memdesc_flags_t (a struct of one word) from 6.18, a bare word
 * before; the struct member does not exist on a kernel with the word. */
struct folio___memdesc {
	struct {
		unsigned long f;
	} flags;
} __attribute__((preserve_access_index));
struct folio___word {
	unsigned long flags;
} __attribute__((preserve_access_index));

/* The size of a large folio: _nr_pages from 6.18, _folio_nr_pages before. */
struct folio___nr_pages {
	unsigned int _nr_pages;
} __attribute__((preserve_access_index));
struct folio___folio_nr_pages {
	unsigned int _folio_nr_pages;
} __attribute__((preserve_access_index));

/* Mappings of a large folio, -1 based: _large_mapcount from 6.10;
 * 6.1's _total_mapcount counts mappings of the whole folio only (a PMD),
 * so a large folio mapped by PTEs alone reads as unmapped there. */
struct folio___large_mapcount {
	atomic_t _large_mapcount;
} __attribute__((preserve_access_index));
struct folio___total_mapcount {
	atomic_t _total_mapcount;
} __attribute__((preserve_access_index));

static __always_inline unsigned long folio_flags_word(struct folio *f)
{
	struct folio___memdesc *m = (void *)f;

	if (bpf_core_field_exists(m->flags.f))
		return m->flags.f;
	return ((struct folio___word *)f)->flags;
}

/* Of a folio whose PG_head is set. */
static __always_inline unsigned long folio_large_pages(struct folio *f)
{
	struct folio___nr_pages *n = (void *)f;

	if (bpf_core_field_exists(n->_nr_pages))
		return n->_nr_pages;
	return ((struct folio___folio_nr_pages *)f)->_folio_nr_pages;
}

/* Of a folio whose PG_head is set. */
static __always_inline int folio_large_mapcount(struct folio *f)
{
	struct folio___large_mapcount *l = (void *)f;

	if (bpf_core_field_exists(l->_large_mapcount))
		return l->_large_mapcount.counter;
	return ((struct folio___total_mapcount *)f)->_total_mapcount.counter;
}

#endif
