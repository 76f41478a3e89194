/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What gst-inspect-1.0 shows of the zcbuf plugin: one set of metadata for
 * every element (the same authors, a long name, a class and a description),
 * rank none for each (nothing autoplugs them; each element's page says how
 * to raise it), and the plugin's own fields.
 */
#include <string>
#include <vector>

#include <gst/gst.h>
#include <gtest/gtest.h>

namespace {

std::vector<GstElementFactory *> zcbufFactories()
{
	std::vector<GstElementFactory *> found;
	GList *features = gst_registry_get_feature_list_by_plugin(gst_registry_get(), "zcbuf");
	for (GList *l = features; l; l = l->next)
		if (GST_IS_ELEMENT_FACTORY(l->data))
			found.push_back(GST_ELEMENT_FACTORY(gst_object_ref(l->data)));
	gst_plugin_feature_list_free(features);
	return found;
}

TEST(PluginMetadata, EveryElementHasTheSameAuthorsAndFullMetadata)
{
	std::vector<GstElementFactory *> factories = zcbufFactories();
	/* zcjpegdec, zcconvert, zcupload, zcthumbnail, zckmssink, zcipcsink,
	 * zcipcsrc */
	EXPECT_EQ(factories.size(), 7u);
	for (GstElementFactory *factory : factories) {
		const char *name = GST_OBJECT_NAME(factory);
		auto field = [&](const char *key) {
			const gchar *value = gst_element_factory_get_metadata(factory, key);
			return std::string(value ? value : "");
		};
		EXPECT_EQ(field(GST_ELEMENT_METADATA_AUTHOR), "The zcbuf authors") << name;
		EXPECT_FALSE(field(GST_ELEMENT_METADATA_LONGNAME).empty()) << name;
		EXPECT_FALSE(field(GST_ELEMENT_METADATA_KLASS).empty()) << name;
		EXPECT_GT(field(GST_ELEMENT_METADATA_DESCRIPTION).size(), 20u) << name;
		EXPECT_EQ(gst_plugin_feature_get_rank(GST_PLUGIN_FEATURE(factory)),
			  static_cast<guint>(GST_RANK_NONE))
			<< name;
		gst_object_unref(factory);
	}
	GstPlugin *plugin = gst_registry_find_plugin(gst_registry_get(), "zcbuf");
	ASSERT_NE(plugin, nullptr);
	EXPECT_STREQ(gst_plugin_get_license(plugin), "LGPL");
	EXPECT_STREQ(gst_plugin_get_source(plugin), "zcbuf");
	gst_object_unref(plugin);
}

} /* namespace */
