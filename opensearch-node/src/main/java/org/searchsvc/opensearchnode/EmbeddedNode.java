package org.searchsvc.opensearchnode;

import java.util.List;
import java.util.Map;

import org.opensearch.analysis.common.CommonAnalysisPlugin;
import org.opensearch.common.settings.Settings;
import org.opensearch.index.mapper.MapperExtrasPlugin;
import org.opensearch.index.reindex.ReindexPlugin;
import org.opensearch.node.InternalSettingsPreparer;
import org.opensearch.node.Node;
import org.opensearch.painless.PainlessPlugin;
import org.opensearch.plugins.Plugin;
import org.opensearch.transport.Netty4Plugin;

/**
 * An OpenSearch node whose plugins come from the classpath, not from a plugins/ folder: the
 * public Node constructor only loads plugins installed on disk.
 */
final class EmbeddedNode extends Node {

    static final List<Class<? extends Plugin>> PLUGINS = List.of(
        Netty4Plugin.class, // HTTP and transport
        CommonAnalysisPlugin.class, // english analyzer, stemmer, porter_stem, asciifolding, ...
        MapperExtrasPlugin.class, // search_as_you_type, scaled_float, rank_feature, token_count
        ReindexPlugin.class, // _reindex, _update_by_query, _delete_by_query
        PainlessPlugin.class // painless scripts
    );

    EmbeddedNode(Settings settings) {
        super(InternalSettingsPreparer.prepareEnvironment(settings, Map.of(), null, () -> "node"), PLUGINS, true);
    }
}
