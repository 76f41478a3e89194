/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Consumers' needs carried by the ALLOCATION query, across tee and queue
 * (see gstzcbufconsumer.h for why the caps object carries them). */
#include <gst/zcbuf/gstzcbufconsumer.h>

namespace {

/* Guards the needs list on a caps object: branches behind queues answer
 * from their own threads. */
GMutex capsNeedsLock;

GQuark capsNeedsQuark()
{
	static GQuark quark = g_quark_from_static_string("zcbuf-consumer-needs-on-caps");
	return quark;
}

GQuark collectedQuark()
{
	static GQuark quark = g_quark_from_static_string("zcbuf-consumer-needs-collected");
	return quark;
}

GPtrArray *newNeedsArray()
{
	return g_ptr_array_new_with_free_func(reinterpret_cast<GDestroyNotify>(gst_structure_free));
}

bool contains(GPtrArray *array, const GstStructure *needs)
{
	for (guint i = 0; i < array->len; i++)
		if (gst_structure_is_equal(static_cast<GstStructure *>(g_ptr_array_index(array, i)),
					   needs))
			return true;
	return false;
}

void appendOnce(GPtrArray *array, const GstStructure *needs)
{
	if (!contains(array, needs))
		g_ptr_array_add(array, gst_structure_copy(needs));
}

bool isAllocationQuery(GstQuery *query)
{
	return query && GST_IS_QUERY(query) && GST_QUERY_TYPE(query) == GST_QUERY_ALLOCATION;
}

GstCaps *queryCaps(GstQuery *query)
{
	GstCaps *caps = nullptr;
	gst_query_parse_allocation(query, &caps, nullptr);
	return caps;
}

/* The needs on the query's own meta entry, added to @into. */
void collectFromMeta(GstQuery *query, GPtrArray *into)
{
	guint index = 0;
	if (!gst_query_find_allocation_meta(query, GST_ZCBUF_CONSUMER_NEEDS_META_API_TYPE, &index))
		return;
	const GstStructure *params = nullptr;
	gst_query_parse_nth_allocation_meta(query, index, &params);
	const GValue *list = params ? gst_structure_get_value(params, "needs") : nullptr;
	if (!list || !GST_VALUE_HOLDS_LIST(list))
		return;
	for (guint i = 0; i < gst_value_list_get_size(list); i++) {
		const GValue *item = gst_value_list_get_value(list, i);
		if (GST_VALUE_HOLDS_STRUCTURE(item))
			appendOnce(into, gst_value_get_structure(item));
	}
}

void addToMeta(GstQuery *query, const GstStructure *needs)
{
	GValue list = G_VALUE_INIT;
	g_value_init(&list, GST_TYPE_LIST);
	guint index = 0;
	if (gst_query_find_allocation_meta(query, GST_ZCBUF_CONSUMER_NEEDS_META_API_TYPE, &index)) {
		const GstStructure *params = nullptr;
		gst_query_parse_nth_allocation_meta(query, index, &params);
		const GValue *old = params ? gst_structure_get_value(params, "needs") : nullptr;
		if (old && GST_VALUE_HOLDS_LIST(old))
			g_value_copy(old, &list);
		gst_query_remove_nth_allocation_meta(query, index);
	}
	GValue item = G_VALUE_INIT;
	g_value_init(&item, GST_TYPE_STRUCTURE);
	gst_value_set_structure(&item, needs);
	gst_value_list_append_and_take_value(&list, &item);

	GstStructure *params = gst_structure_new_empty("zcbuf-consumer-needs-entry");
	gst_structure_take_value(params, "needs", &list);
	gst_query_add_allocation_meta(query, GST_ZCBUF_CONSUMER_NEEDS_META_API_TYPE, params);
	gst_structure_free(params);
}

} /* namespace */

GType gst_zcbuf_consumer_needs_meta_api_get_type(void)
{
	static GType type = 0;
	static const gchar *tags[] = { nullptr };
	if (g_once_init_enter(&type)) {
		GType registered = gst_meta_api_type_register("GstZcbufConsumerNeedsMetaAPI", tags);
		g_once_init_leave(&type, registered);
	}
	return type;
}

void gst_zcbuf_query_add_consumer_needs(GstQuery *allocation_query, const GstStructure *needs)
{
	g_return_if_fail(isAllocationQuery(allocation_query));
	g_return_if_fail(needs && gst_structure_has_name(needs, GST_ZCBUF_CONSUMER_NEEDS));

	if (gst_query_is_writable(allocation_query))
		addToMeta(allocation_query, needs);

	GstCaps *caps = queryCaps(allocation_query);
	if (!caps)
		return;
	g_mutex_lock(&capsNeedsLock);
	auto *onCaps = static_cast<GPtrArray *>(
		gst_mini_object_get_qdata(GST_MINI_OBJECT_CAST(caps), capsNeedsQuark()));
	if (!onCaps) {
		onCaps = newNeedsArray();
		gst_mini_object_set_qdata(GST_MINI_OBJECT_CAST(caps), capsNeedsQuark(), onCaps,
					  reinterpret_cast<GDestroyNotify>(g_ptr_array_unref));
	}
	appendOnce(onCaps, needs);
	g_mutex_unlock(&capsNeedsLock);
}

guint gst_zcbuf_query_get_n_consumer_needs(GstQuery *allocation_query)
{
	g_return_val_if_fail(isAllocationQuery(allocation_query), 0);

	auto *collected = static_cast<GPtrArray *>(
		gst_mini_object_get_qdata(GST_MINI_OBJECT_CAST(allocation_query), collectedQuark()));
	if (collected)
		return collected->len;

	collected = newNeedsArray();
	collectFromMeta(allocation_query, collected);
	if (GstCaps *caps = queryCaps(allocation_query)) {
		g_mutex_lock(&capsNeedsLock);
		auto *onCaps = static_cast<GPtrArray *>(gst_mini_object_steal_qdata(
			GST_MINI_OBJECT_CAST(caps), capsNeedsQuark()));
		g_mutex_unlock(&capsNeedsLock);
		if (onCaps) {
			for (guint i = 0; i < onCaps->len; i++)
				appendOnce(collected, static_cast<GstStructure *>(
							      g_ptr_array_index(onCaps, i)));
			g_ptr_array_unref(onCaps);
		}
	}
	gst_mini_object_set_qdata(GST_MINI_OBJECT_CAST(allocation_query), collectedQuark(), collected,
				  reinterpret_cast<GDestroyNotify>(g_ptr_array_unref));
	return collected->len;
}

const GstStructure *gst_zcbuf_query_get_consumer_needs(GstQuery *allocation_query, guint index)
{
	g_return_val_if_fail(isAllocationQuery(allocation_query), nullptr);
	if (index >= gst_zcbuf_query_get_n_consumer_needs(allocation_query))
		return nullptr;
	auto *collected = static_cast<GPtrArray *>(
		gst_mini_object_get_qdata(GST_MINI_OBJECT_CAST(allocation_query), collectedQuark()));
	return static_cast<const GstStructure *>(g_ptr_array_index(collected, index));
}
