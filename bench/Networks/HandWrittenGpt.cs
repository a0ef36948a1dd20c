using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Functional.Bench.Networks;

/// <summary>
/// The GPT of examples/language-tour/tour.fnn (vocab 96, dim 128, 4 heads, 4 pre-norm blocks, context 128),
/// as one writes it against TorchSharp: token and learned position embeddings, blocks of causal
/// self-attention (separate query, key, value and output projections, fused scaled dot-product attention)
/// and a GELU feed-forward, a final layer norm and the vocabulary head.
/// </summary>
public sealed class HandWrittenGpt : nn.Module<Tensor, Tensor>
{
    private readonly Embedding tokens;
    private readonly Parameter positions;
    private readonly ModuleList<Block> blocks;
    private readonly LayerNorm norm;
    private readonly Linear head;

    public HandWrittenGpt(int vocab = 96, int dim = 128, int heads = 4, int depth = 4, int context = 128) : base(nameof(HandWrittenGpt))
    {
        Context = context;
        tokens = nn.Embedding(vocab, dim);
        positions = nn.Parameter(randn(context, dim) * 0.02);
        blocks = nn.ModuleList(Enumerable.Range(0, depth).Select(_ => new Block(dim, heads)).ToArray());
        norm = nn.LayerNorm(dim);
        head = nn.Linear(dim, vocab);
        RegisterComponents();
    }

    /// <summary>The most positions the network sees at once (its position table's rows).</summary>
    public int Context { get; }

    /// <summary>The parameters in the order of the model's layers (TorchSharp lists a module's own parameters first).</summary>
    public IEnumerable<Parameter> InLayerOrder() =>
        tokens.parameters().Append(positions)
            .Concat(blocks.parameters()).Concat(norm.parameters()).Concat(head.parameters());

    public override Tensor forward(Tensor ids) => Forward(ids, null);

    /// <summary>
    /// The logits of <paramref name="ids"/> ([batch, new positions]); with a cache, these are the positions
    /// after its offset, and each block attends over its cached keys and values too (the caller advances it).
    /// </summary>
    public Tensor Forward(Tensor ids, KeyValueCache? cache)
    {
        var x = tokens.forward(ids) + positions.narrow(0, cache?.Offset ?? 0, ids.shape[1]);
        for (var i = 0; i < blocks.Count; i++) x = blocks[i].Forward(x, cache, i);
        return head.forward(norm.forward(x));
    }

    private sealed class Block : nn.Module<Tensor, Tensor>
    {
        // In the order of the layers (RegisterComponents registers fields in declaration order).
        private readonly LayerNorm norm1;
        private readonly Linear query, key, value, output;
        private readonly LayerNorm norm2;
        private readonly Linear up, down;
        private readonly long heads;

        public Block(int dim, int heads) : base(nameof(Block))
        {
            norm1 = nn.LayerNorm(dim);
            query = nn.Linear(dim, dim);
            key = nn.Linear(dim, dim);
            value = nn.Linear(dim, dim);
            output = nn.Linear(dim, dim);
            norm2 = nn.LayerNorm(dim);
            up = nn.Linear(dim, 4 * dim);
            down = nn.Linear(4 * dim, dim);
            this.heads = heads;
            RegisterComponents();
        }

        public override Tensor forward(Tensor x) => Forward(x, null, 0);

        public Tensor Forward(Tensor x, KeyValueCache? cache, int index)
        {
            x = x + Attend(norm1.forward(x), cache, index);
            return x + down.forward(nn.functional.gelu(up.forward(norm2.forward(x))));
        }

        private Tensor Attend(Tensor x, KeyValueCache? cache, int index)
        {
            long batch = x.shape[0], length = x.shape[1], dim = x.shape[2];
            Tensor Split(Tensor t) => t.view(batch, length, heads, dim / heads).transpose(1, 2);
            var (q, k, v) = (Split(query.forward(x)), Split(key.forward(x)), Split(value.forward(x)));
            Tensor attended;
            if (cache is null || cache.Offset == 0)
            {
                // The whole window, or the cache's first pass: causal over the new positions alone.
                if (cache is not null) (k, v) = cache.Extend(index, k, v);
                attended = nn.functional.scaled_dot_product_attention(q, k, v, is_casual: true);
            }
            else if (length == 1)
            {
                // One new position sees every cached one and itself: no mask.
                (k, v) = cache.Extend(index, k, v);
                attended = nn.functional.scaled_dot_product_attention(q, k, v);
            }
            else throw new InvalidOperationException("the hand-written GPT's cache takes one new position at a time after its first pass");
            return output.forward(attended.transpose(1, 2).reshape(batch, length, dim));
        }
    }
}
