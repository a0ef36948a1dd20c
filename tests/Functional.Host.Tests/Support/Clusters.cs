using Functional.Data;

namespace Functional.Host.Tests;

/// <summary>Three well separated clusters in the plane, labels 0..2, from a seed: the classification data of the
/// training, session and fine-tuning tests.</summary>
internal static class Clusters
{
    public static InMemoryDataset Make(int count, int seed)
    {
        var random = new Random(seed);
        float[][] centres = [[0, 3], [3, -2], [-3, -2]];
        var features = new float[count][];
        var labels = new int[count];
        for (var i = 0; i < count; i++)
        {
            labels[i] = i % 3;
            var c = centres[labels[i]];
            features[i] = [c[0] + (float)(random.NextDouble() - 0.5), c[1] + (float)(random.NextDouble() - 0.5)];
        }
        return new InMemoryDataset(features, labels, 3);
    }
}
