/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <dirent.h>
#include <inttypes.h>
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "common/conf.h"
#include "common/log.h"
#include "common/macro.h"

/* An instance of a section seen while loading, to check required keys after. */
struct seen {
	const struct conf_section *sec;
	char *name;
	void *inst;
	uint64_t set; /* bit i: keys[i] was given */
	char *file;
	unsigned line;
	unsigned key_line[64]; /* where keys[i] was given, in file (the last one given) */
};

struct loader {
	const struct conf_schema *schema;
	void *target;
	struct conf_errors *errs;
	const char *file;
	FILE *fp;
	unsigned line;
	struct seen *seen;
	size_t n_seen;
};

void conf_error_add(struct conf_errors *errs, const char *where, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (errs->n >= CONF_ERRORS_MAX) {
		errs->dropped++;
		return;
	}
	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (asprintf(&errs->msg[errs->n], "%s: %s", where, msg) < 0)
		errs->dropped++;
	else
		errs->n++;
}

#define loader_error(l, ...)                                                   \
	do {                                                                   \
		char _w[4096 + 16];                                            \
		(void)snprintf(_w, sizeof(_w), "%s:%u", (l)->file, (l)->line); \
		conf_error_add((l)->errs, _w, __VA_ARGS__);                         \
	} while (0)

int conf_parse_bool(const char *v, bool *ret)
{
	static const char *const yes[] = { "1", "yes", "true", "on" };
	static const char *const no[] = { "0", "no", "false", "off" };

	for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
		if (strcasecmp(v, yes[i]) == 0)
			return *ret = true, 0;
		if (strcasecmp(v, no[i]) == 0)
			return *ret = false, 0;
	}
	return -EINVAL;
}

/* Parses a decimal number and returns the rest of the string in *ret_end. */
static int parse_number(const char *v, uint64_t *ret, const char **ret_end)
{
	uint64_t n = 0;
	const char *p = v;

	if (*p < '0' || *p > '9')
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (n > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
			return -ERANGE;
		n = n * 10 + (uint64_t)(*p - '0');
	}
	*ret = n;
	*ret_end = p;
	return 0;
}

static int scale(uint64_t n, uint64_t mul, uint64_t *ret)
{
	if (mul && n > UINT64_MAX / mul)
		return -ERANGE;
	*ret = n * mul;
	return 0;
}

int conf_parse_uint(const char *v, uint64_t *ret)
{
	const char *end;
	uint64_t n;
	int r = parse_number(v, &n, &end);

	if (r < 0)
		return r;
	if (*end)
		return -EINVAL;
	*ret = n;
	return 0;
}

int conf_parse_size(const char *v, uint64_t *ret)
{
	static const struct { const char *s; uint64_t mul; } units[] = {
		{ "", 1 }, { "B", 1 }, { "K", 1024 }, { "KB", 1024 }, { "KiB", 1024 },
		{ "M", 1024 * 1024 }, { "MB", 1024 * 1024 }, { "MiB", 1024 * 1024 },
		{ "G", 1024ull * 1024 * 1024 }, { "GB", 1024ull * 1024 * 1024 },
		{ "GiB", 1024ull * 1024 * 1024 },
	};
	const char *end;
	uint64_t n;
	int r = parse_number(v, &n, &end);

	if (r < 0)
		return r;
	for (size_t i = 0; i < ARRAY_SIZE(units); i++)
		if (strcasecmp(end, units[i].s) == 0)
			return scale(n, units[i].mul, ret);
	return -EINVAL;
}

int conf_parse_duration_ms(const char *v, uint64_t bare_unit_ms, uint64_t *ret)
{
	static const struct { const char *s; uint64_t mul; } units[] = {
		{ "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "min", 60000 },
		{ "h", 3600000 }, { "d", 86400000 },
	};
	const char *end;
	uint64_t n;
	int r = parse_number(v, &n, &end);

	if (r < 0)
		return r;
	if (!*end)
		return scale(n, bare_unit_ms, ret);
	for (size_t i = 0; i < ARRAY_SIZE(units); i++)
		if (strcmp(end, units[i].s) == 0)
			return scale(n, units[i].mul, ret);
	return -EINVAL;
}

static const char *type_hint(enum conf_type t)
{
	switch (t) {
	case CONF_BOOL: return "a boolean (yes/no)";
	case CONF_UINT: return "a non-negative integer";
	case CONF_SIZE: return "a size (e.g. 512K, 64M)";
	case CONF_MSEC: return "a duration (e.g. 250ms, 2s)";
	case CONF_SECS: return "a duration (e.g. 30s, 5m)";
	default: return "a string";
	}
}

/* Stores value into inst per key. Returns 0, or a negative errno with *ret_why. */
static int set_value(const struct conf_key *k, void *inst, const char *value, const char **ret_why)
{
	uint8_t *field = (uint8_t *)inst + k->offset;
	uint64_t n = 0;
	int r = 0;

	switch (k->type) {
	case CONF_STR: {
		char *s = strdup(value), **dst = (char **)field;
		if (!s)
			return -ENOMEM;
		free(*dst);
		*dst = s;
		return 0;
	}
	case CONF_BOOL:
		r = conf_parse_bool(value, (bool *)field);
		break;
	case CONF_UINT:
		r = conf_parse_uint(value, &n);
		break;
	case CONF_SIZE:
		r = conf_parse_size(value, &n);
		break;
	case CONF_MSEC:
		r = conf_parse_duration_ms(value, 1, &n);
		break;
	case CONF_SECS:
		r = conf_parse_duration_ms(value, 1000, &n);
		break;
	}
	if (r < 0) {
		*ret_why = type_hint(k->type);
		return r;
	}
	if (k->type == CONF_BOOL)
		return 0;
	if (k->max && (n < k->min || n > k->max)) {
		*ret_why = "out of range";
		return -ERANGE;
	}
	*(uint64_t *)field = n;
	return 0;
}

bool conf_key_is_default(const struct conf_key *k, const void *instance)
{
	const uint8_t *field = (const uint8_t *)instance + k->offset;
	uint64_t def = 0;
	bool bdef = false;
	const char *why;
	struct {
		uint8_t bytes[64];
	} tmp = { 0 };

	switch (k->type) {
	case CONF_STR: {
		const char *v = *(char *const *)field;
		return k->def ? v && strcmp(v, k->def) == 0 : v == NULL;
	}
	case CONF_BOOL:
		if (k->def)
			(void)conf_parse_bool(k->def, &bdef);
		return *(const bool *)field == bdef;
	default:
		if (k->def) {
			struct conf_key at0 = *k;
			at0.offset = 0;
			(void)set_value(&at0, &tmp, k->def, &why);
			memcpy(&def, tmp.bytes, sizeof(def));
		}
		return *(const uint64_t *)field == def;
	}
}

static void apply_defaults(const struct conf_section *sec, void *inst)
{
	for (size_t i = 0; i < sec->n_keys; i++) {
		const char *why;
		if (sec->keys[i].def && set_value(&sec->keys[i], inst, sec->keys[i].def, &why) < 0)
			log_error("internal: bad default for %s.%s", sec->name, sec->keys[i].name);
	}
}

/* Splits "tail \"app\"" into kind and instance name; plain "agent" has none. */
static int split_section(const char *section, char *kind, size_t kind_sz, char *inst,
			 size_t inst_sz)
{
	const char *sp = strchr(section, ' ');
	size_t klen = sp ? (size_t)(sp - section) : strlen(section), ilen;
	const char *q;

	if (klen == 0 || klen >= kind_sz)
		return -EINVAL;
	memcpy(kind, section, klen);
	kind[klen] = 0;
	inst[0] = 0;
	if (!sp)
		return 0;
	while (*sp == ' ')
		sp++;
	if (*sp != '"' || !(q = strchr(sp + 1, '"')) || q[1])
		return -EINVAL;
	ilen = (size_t)(q - sp - 1);
	if (ilen == 0 || ilen >= inst_sz)
		return -EINVAL;
	memcpy(inst, sp + 1, ilen);
	inst[ilen] = 0;
	return 1;
}

static struct seen *find_seen(struct loader *l, const struct conf_section *sec, const char *name)
{
	for (size_t i = 0; i < l->n_seen; i++)
		if (l->seen[i].sec == sec && strcmp(l->seen[i].name, name) == 0)
			return &l->seen[i];
	return NULL;
}

static struct seen *get_instance(struct loader *l, const struct conf_section *sec, const char *name)
{
	struct seen *s = find_seen(l, sec, name), *grown;
	void *inst;

	if (s)
		return s;
	inst = sec->named ? sec->instance(l->target, name) : (uint8_t *)l->target + sec->offset;
	if (!inst)
		return NULL;
	grown = realloc(l->seen, (l->n_seen + 1) * sizeof(*grown));
	if (!grown)
		return NULL;
	l->seen = grown;
	s = &l->seen[l->n_seen];
	*s = (struct seen){ .sec = sec, .inst = inst, .line = l->line,
			    .name = strdup(name), .file = strdup(l->file) };
	if (!s->name || !s->file) {
		free(s->name);
		free(s->file);
		return NULL;
	}
	l->n_seen++;
	if (sec->named)
		apply_defaults(sec, inst);
	return s;
}

static const struct conf_section *find_section(const struct conf_schema *s, const char *kind)
{
	for (size_t i = 0; i < s->n_sections; i++)
		if (strcmp(s->sections[i].name, kind) == 0)
			return &s->sections[i];
	return NULL;
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
	struct loader *l = user;
	const struct conf_section *sec;
	char kind[64], inst[256];
	const char *why = "";
	struct seen *s;
	int named;

	named = split_section(section, kind, sizeof(kind), inst, sizeof(inst));
	if (!*section) {
		loader_error(l, "key '%s' outside of any section", name);
		return 1;
	}
	sec = named < 0 ? NULL : find_section(l->schema, kind);
	if (!sec) {
		loader_error(l, "unknown section [%s]", section);
		return 1;
	}
	if (sec->named != (named == 1)) {
		loader_error(l, sec->named ? "section [%s] needs a name: [%s \"NAME\"]"
					   : "section [%s] takes no name", kind, kind);
		return 1;
	}
	s = get_instance(l, sec, inst);
	if (!s) {
		loader_error(l, "out of memory");
		return 0;
	}
	for (size_t i = 0; i < sec->n_keys; i++) {
		if (strcmp(sec->keys[i].name, name) != 0)
			continue;
		if (set_value(&sec->keys[i], s->inst, value, &why) < 0) {
			loader_error(l, "[%s] %s=%s: expected %s", section, name, value, why);
		} else if (i < ARRAY_SIZE(s->key_line)) {
			s->set |= UINT64_C(1) << i;
			/* A drop-in may set a key of a section the main file began: the key's own place. */
			if (strcmp(s->file, l->file) == 0)
				s->key_line[i] = l->line;
		}
		return 1;
	}
	loader_error(l, "[%s]: unknown key '%s'", section, name);
	return 1;
}

/* fgets that counts lines, so the handler knows where it is (inih does not say). */
static char *counting_reader(char *str, int num, void *stream)
{
	struct loader *l = stream;
	char *r = fgets(str, num, l->fp);

	if (r)
		l->line++;
	return r;
}

/* Reads fp, called name in errors, into l's target. */
static void load_stream(struct loader *l, FILE *fp, const char *name)
{
	int r;

	l->fp = fp;
	l->file = name;
	l->line = 0;
	r = ini_parse_stream(counting_reader, l, handler, l);
	l->fp = NULL;
	if (r > 0) {
		char where[4096 + 16];
		(void)snprintf(where, sizeof(where), "%s:%d", name, r);
		conf_error_add(l->errs, where, "syntax error");
	}
}

static int load_file(struct loader *l, const char *path)
{
	FILE *fp = fopen(path, "re");
	int r;

	if (!fp) {
		r = -errno;
		l->file = path;
		conf_error_add(l->errs, path, "cannot open: %s", strerror(-r));
		return r;
	}
	load_stream(l, fp, path);
	(void)fclose(fp);
	return 0;
}

static int dropin_filter(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	return d->d_name[0] != '.' && n > 5 && strcmp(d->d_name + n - 5, ".conf") == 0;
}

static int dropin_cmp(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static void load_dropins(struct loader *l, const char *path)
{
	struct dirent **list = NULL;
	char dir[4096], file[4096 + 256];
	int n;

	if ((size_t)snprintf(dir, sizeof(dir), "%s.d", path) >= sizeof(dir))
		return;
	n = scandir(dir, &list, dropin_filter, dropin_cmp);
	for (int i = 0; i < n; i++) {
		(void)snprintf(file, sizeof(file), "%s/%s", dir, list[i]->d_name);
		(void)load_file(l, file);
		free(list[i]);
	}
	free(list);
}

static bool section_seen(const struct loader *l, const struct conf_section *sec)
{
	for (size_t i = 0; i < l->n_seen; i++)
		if (l->seen[i].sec == sec)
			return true;
	return false;
}

static void check_seen_required(struct loader *l, const struct seen *s)
{
	char where[4096 + 16];

	(void)snprintf(where, sizeof(where), "%s:%u", s->file, s->line);
	for (size_t k = 0; k < s->sec->n_keys; k++)
		if (s->sec->keys[k].required && !(s->set & (UINT64_C(1) << k)))
			conf_error_add(l->errs, where, "[%s%s%s%s]: missing required key '%s'", s->sec->name,
				       s->sec->named ? " \"" : "", s->name, s->sec->named ? "\"" : "",
				       s->sec->keys[k].name);
}

static void check_required(struct loader *l, const char *path)
{
	for (size_t i = 0; i < l->schema->n_sections; i++) {
		const struct conf_section *sec = &l->schema->sections[i];
		if (sec->named || section_seen(l, sec))
			continue;
		for (size_t k = 0; k < sec->n_keys; k++)
			if (sec->keys[k].required)
				conf_error_add(l->errs, path, "missing section [%s] with required key '%s'",
					  sec->name, sec->keys[k].name);
	}
	for (size_t i = 0; i < l->n_seen; i++)
		check_seen_required(l, &l->seen[i]);
}

/* Loads path, its drop-ins and extra (when it exists) into l's target; l->seen stays for the checks. */
static int load(struct loader *l, const char *path, const char *extra)
{
	const struct conf_schema *s = l->schema;
	int r;

	for (size_t i = 0; i < s->n_sections; i++)
		if (!s->sections[i].named)
			apply_defaults(&s->sections[i], (uint8_t *)l->target + s->sections[i].offset);
	r = load_file(l, path);
	if (r == 0) {
		load_dropins(l, path);
		if (extra && access(extra, F_OK) == 0)
			(void)load_file(l, extra);
		check_required(l, path);
	}
	l->file = path;
	return r;
}

static void loader_done(struct loader *l)
{
	for (size_t i = 0; i < l->n_seen; i++) {
		free(l->seen[i].name);
		free(l->seen[i].file);
	}
	free(l->seen);
}

int conf_load(const struct conf_schema *s, const char *path, void *target,
	      struct conf_errors *errs)
{
	struct loader l = { .schema = s, .target = target, .errs = errs };
	int r = load(&l, path, NULL);

	loader_done(&l);
	if (r < 0)
		return r;
	return errs->n || errs->dropped ? -EINVAL : 0;
}

const char *conf_origin_where(const struct conf_origin *o, const void *inst, const char *key, char *buf,
			      size_t size)
{
	const struct loader *l = (const struct loader *)o;

	(void)snprintf(buf, size, "%s", l->file);
	for (size_t i = 0; i < l->n_seen; i++) {
		const struct seen *s = &l->seen[i];
		unsigned line = s->line;
		if (s->inst != inst)
			continue;
		for (size_t k = 0; key && k < s->sec->n_keys && k < ARRAY_SIZE(s->key_line); k++)
			if (strcmp(s->sec->keys[k].name, key) == 0 && s->key_line[k])
				line = s->key_line[k];
		(void)snprintf(buf, size, "%s:%u", s->file, line);
		break;
	}
	return buf;
}

/* check's run over what l loaded; 0, r when loading failed, or -EINVAL with errors in l->errs. */
static int loaded(struct loader *l, int r, conf_check_fn *check)
{
	if (r == 0 && check)
		check(l->target, (const struct conf_origin *)l, l->errs);
	loader_done(l);
	if (r == 0 && (l->errs->n || l->errs->dropped))
		r = -EINVAL;
	return r;
}

int conf_load_layers(const struct conf_schema *s, const char *path, const char *extra, void *target,
		     conf_check_fn *check, struct conf_errors *errs)
{
	struct loader l = { .schema = s, .target = target, .errs = errs };

	return loaded(&l, load(&l, path, extra), check);
}

int conf_load_text(const struct conf_schema *s, const char *name, const char *text, void *target,
		   conf_check_fn *check, struct conf_errors *errs)
{
	struct loader l = { .schema = s, .target = target, .errs = errs };
	FILE *fp = fmemopen((void *)text, strlen(text), "r");

	if (!fp) {
		conf_error_add(errs, name, "cannot read: %s", strerror(errno));
		return -ENOMEM;
	}
	for (size_t i = 0; i < s->n_sections; i++)
		if (!s->sections[i].named)
			apply_defaults(&s->sections[i], (uint8_t *)target + s->sections[i].offset);
	load_stream(&l, fp, name);
	(void)fclose(fp);
	for (size_t i = 0; i < l.n_seen; i++)
		if (l.seen[i].sec->named)
			check_seen_required(&l, &l.seen[i]);
	return loaded(&l, 0, check);
}

int conf_load_report(const struct conf_schema *s, const char *path, void *target, conf_check_fn *check)
{
	struct conf_errors errs = { 0 };
	int r = conf_load_layers(s, path, NULL, target, check, &errs);

	conf_errors_print(&errs);
	conf_errors_free(&errs);
	return r;
}

void conf_errors_print(const struct conf_errors *errs)
{
	for (size_t i = 0; i < errs->n; i++)
		(void)fprintf(stderr, "%s\n", errs->msg[i]);
	if (errs->dropped)
		(void)fprintf(stderr, "(%zu more errors not shown)\n", errs->dropped);
}

void conf_errors_free(struct conf_errors *errs)
{
	for (size_t i = 0; i < errs->n; i++)
		free(errs->msg[i]);
	*errs = (struct conf_errors){ 0 };
}

void conf_free_section(const struct conf_section *sec, void *instance)
{
	for (size_t i = 0; i < sec->n_keys; i++)
		if (sec->keys[i].type == CONF_STR) {
			char **p = (char **)((uint8_t *)instance + sec->keys[i].offset);
			free(*p);
			*p = NULL;
		}
}

static const char *const type_names[] = {
	[CONF_STR] = "string", [CONF_BOOL] = "boolean", [CONF_UINT] = "integer",
	[CONF_SIZE] = "size", [CONF_MSEC] = "duration", [CONF_SECS] = "duration",
};

void conf_schema_print(const struct conf_schema *s, FILE *f)
{
	for (size_t i = 0; i < s->n_sections; i++) {
		const struct conf_section *sec = &s->sections[i];
		for (size_t k = 0; k < sec->n_keys; k++) {
			const struct conf_key *key = &sec->keys[k];
			(void)fprintf(f, "[%s%s] %s=%s (%s%s) %s\n", sec->name, sec->named ? " \"NAME\"" : "",
				      key->name, key->def ? key->def : "", type_names[key->type],
				      key->required ? ", required" : "", key->help ? key->help : "");
		}
	}
}

void *conf_named_append(void ***list, size_t *n, size_t size, const char *name)
{
	char **item = calloc(1, size);
	void **grown;

	if (!item)
		return NULL;
	*item = strdup(name);
	grown = realloc(*list, (*n + 1) * sizeof(*grown));
	if (grown)
		*list = grown;
	if (!grown || !*item) {
		free(*item);
		free(item);
		return NULL;
	}
	(*list)[(*n)++] = item;
	return item;
}

int conf_instance_fill(const struct conf_section *sec, void *inst, const char *const *keys,
		       const char *const *values, size_t n, const char *where, struct conf_errors *errs)
{
	uint64_t set = 0;
	size_t before = errs->n + errs->dropped;

	apply_defaults(sec, inst);
	for (size_t i = 0; i < n; i++) {
		const char *why = "";
		size_t k = 0;

		while (k < sec->n_keys && strcmp(sec->keys[k].name, keys[i]) != 0)
			k++;
		if (k == sec->n_keys)
			conf_error_add(errs, where, "unknown key '%s'", keys[i]);
		else if (set_value(&sec->keys[k], inst, values[i], &why) < 0)
			conf_error_add(errs, where, "%s=%s: expected %s", keys[i], values[i], why);
		else
			set |= UINT64_C(1) << k;
	}
	for (size_t k = 0; k < sec->n_keys; k++)
		if (sec->keys[k].required && !(set & (UINT64_C(1) << k)))
			conf_error_add(errs, where, "missing required key '%s'", sec->keys[k].name);
	return errs->n + errs->dropped > before ? -EINVAL : 0;
}

void conf_key_format(const struct conf_key *k, const void *inst, char *buf, size_t size)
{
	const uint8_t *field = (const uint8_t *)inst + k->offset;
	uint64_t v;

	switch (k->type) {
	case CONF_STR:
		(void)snprintf(buf, size, "%s", *(char *const *)field ? *(char *const *)field : "");
		return;
	case CONF_BOOL:
		(void)snprintf(buf, size, "%s", *(const bool *)field ? "yes" : "no");
		return;
	default:
		break;
	}
	memcpy(&v, field, sizeof(v));
	if (k->type == CONF_MSEC || k->type == CONF_SECS)
		(void)snprintf(buf, size, v % 1000 ? "%" PRIu64 "ms" : "%" PRIu64 "s", v % 1000 ? v : v / 1000);
	else
		(void)snprintf(buf, size, "%" PRIu64, v);
}

void conf_named_free(void **list, size_t n, const struct conf_section *sec)
{
	for (size_t i = 0; i < n; i++) {
		conf_free_section(sec, list[i]);
		free(*(char **)list[i]);
		free(list[i]);
	}
	free(list);
}

const void *conf_named_find(const void *const *list, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(*(char *const *)list[i], name) == 0)
			return list[i];
	return NULL;
}
