using Functional.Hosting;
using Functional.Serving;

namespace Functional.Service;

/// <summary>
/// <c>POST /models/{name}/predict</c>: <c>{"input": [numbers]}</c> answers <c>{"output": [numbers]}</c> (with
/// <c>className</c> and <c>classIndex</c> for a classifier); <c>{"inputs": [[...], ...]}</c> answers
/// <c>{"outputs": [{"output": ...}, ...]}</c>.
/// </summary>
internal static class PredictEndpoint
{
    public static async Task<IResult> Handle(string name, HttpContext context, FunctionalModels models)
    {
        if (models.Find(name) is not { } model) return Problems.UnknownModel(models, name);
        var cancellation = context.RequestAborted;
        try
        {
            var body = await RequestBody.ReadObjectAsync(context.Request, cancellation);
            var (inputs, several) = RequestBody.Examples(body);
            var answers = await model.Use(async predictor =>
            {
                var outputs = await predictor.PredictAsync(inputs, cancellation);
                return outputs.Select(o => Answer(o, predictor.TopClass(o))).ToList();
            });
            return several ? Results.Ok(new { outputs = answers }) : Results.Ok(answers[0]);
        }
        catch (Exception e) when (Problems.For(e, context) is { } problem)
        {
            return problem;
        }
    }

    private static Dictionary<string, object> Answer(float[] output, ClassPrediction? top)
    {
        var answer = new Dictionary<string, object> { ["output"] = output };
        if (top is not null)
        {
            answer["className"] = top.Name;
            answer["classIndex"] = top.Index;
        }
        return answer;
    }
}
