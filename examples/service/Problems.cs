using Functional.Hosting;
using Functional.Serving;

namespace Functional.Service;

/// <summary>RFC 7807 answers for what a request got wrong: the <c>detail</c> says what.</summary>
internal static class Problems
{
    public static IResult BadRequest(string detail) =>
        Results.Problem(detail: detail, statusCode: StatusCodes.Status400BadRequest, title: "The request cannot be served");

    public static IResult UnknownModel(FunctionalModels models, string name) =>
        Results.Problem(
            detail: $"there is no model '{Excerpt.@short(name)}'; the models are {string.Join(", ", models.All.Select(m => m.Name))}",
            statusCode: StatusCodes.Status404NotFound, title: "No such model");

    public static IResult NotReady(ModelNotReadyException e) =>
        Results.Problem(detail: e.Message, statusCode: StatusCodes.Status503ServiceUnavailable, title: "The model is not ready");

    public static IResult TooLarge(long limit) =>
        Results.Problem(detail: $"the request body is larger than {limit} bytes", statusCode: StatusCodes.Status413PayloadTooLarge,
            title: "The request is too large");

    /// <summary>The problem for what a request's handling threw, or null when it is not the request's fault.</summary>
    public static IResult? For(Exception e, HttpContext context) => e switch
    {
        InvalidInputException invalid => BadRequest(invalid.Reason),
        ModelNotReadyException notReady => NotReady(notReady),
        BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge } =>
            TooLarge(context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>()?.MaxRequestBodySize ?? 0),
        BadHttpRequestException bad => Results.Problem(detail: bad.Message, statusCode: bad.StatusCode, title: "The request cannot be read"),
        RequestFormatException format => BadRequest(format.Message),
        _ => null,
    };
}
