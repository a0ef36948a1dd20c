/// A train block's optimizer and learning-rate schedule as typed values, and the rules their settings
/// obey (names, types, ranges): the one place for each rule. A train block (`adam (lr = 0.001)`, through
/// TrainSettingBuiltins), the command line (`--optimizer "adam(lr=0.001)"`) and the host's C# builders
/// (`Optimizer.Adam(lr: 0.001)`) are all checked here. Option names are spelled as the language writes them.
namespace Functional.Lang.Checking

open Functional.Lang

/// sgd's own settings.
type SgdSettings = { Momentum: float; Nesterov: bool }

/// rmsprop's own settings: the smoothing constant alpha (Keras's rho), eps and momentum.
type RmsPropSettings = { Alpha: float; Eps: float; Momentum: float }

/// adam's and adamw's own settings.
type AdamSettings = { Beta1: float; Beta2: float; Eps: float }

/// The update rule, with its own settings.
type OptimizerRule =
    | Sgd of SgdSettings
    | RmsProp of RmsPropSettings
    | Adam of AdamSettings
    /// Adam with decoupled weight decay (`w *= 1 - lr * weightDecay` before the Adam step).
    | AdamW of AdamSettings

/// A checked optimizer: every setting, given or defaulted (PyTorch's defaults).
type OptimizerSettings =
    { Rule: OptimizerRule
      Lr: float
      /// L2 added to the gradient (sgd, rmsprop, adam), or decoupled (adamw).
      WeightDecay: float
      /// λ of the penalty λ·Σ|w| added to the loss; 0 is none.
      L1: float
      /// The gradients' global L2 norm is clipped to this before each step.
      ClipNorm: float option
      /// Every gradient element is clamped to [-clipValue, clipValue] (after clipNorm).
      ClipValue: float option }

/// Whether a plateau schedule waits for the monitored value to fall (a loss) or to rise (an accuracy).
type PlateauMode =
    | Min
    | Max

/// Reduce-on-plateau, as PyTorch's ReduceLROnPlateau with an absolute threshold (minDelta).
type PlateauSettings =
    { Factor: float
      Patience: int
      MinDelta: float
      Cooldown: int
      MinLr: float
      Mode: PlateauMode }

/// How the rate changes epoch by epoch, after any warm-up.
type ScheduleRule =
    | Constant
    | StepDecay of Every: int * Gamma: float
    | Exponential of Gamma: float
    | Cosine of Epochs: int * MinLr: float
    | Plateau of PlateauSettings

type WarmupLength =
    | WarmupSteps of Steps: int
    | WarmupEpochs of Epochs: int

/// A linear warm-up of the rate's factor, from `Start` to 1.
type Warmup = { Length: WarmupLength; Start: float }

/// A checked learning-rate schedule: its rule and its warm-up, if any (`warmup (steps = 500)` is a
/// constant rule after a warm-up).
type ScheduleSettings = { Rule: ScheduleRule; Warmup: Warmup option }

/// An option's value as written.
type SettingValue =
    | Integer of int
    | Real of float
    | Flag of bool
    | Text of string
    /// Anything else, as the language describes it ("the layer relu").
    | Other of description: string

/// What is wrong, and with which option (None: with the optimizer or schedule as a whole).
type SettingError = { Option: string option; Message: string }

module TrainSettings =
    /// The optimizers and their options, in the order messages list them.
    let optimizers: (string * string list) list =
        let common = [ "lr"; "weightDecay"; "l1"; "clipNorm"; "clipValue" ]
        [ "sgd", common @ [ "momentum"; "nesterov" ]
          "rmsprop", common @ [ "momentum"; "alpha"; "eps" ]
          "adam", common @ [ "beta1"; "beta2"; "eps" ]
          "adamw", common @ [ "beta1"; "beta2"; "eps" ] ]

    /// The schedules and their options.
    let schedules: (string * string list) list =
        let warmup = [ "warmupSteps"; "warmupEpochs"; "warmupStart" ]
        [ "stepDecay", [ "every"; "gamma" ] @ warmup
          "exponential", [ "gamma" ] @ warmup
          "cosine", [ "epochs"; "minLr" ] @ warmup
          "plateau", [ "factor"; "patience"; "minDelta"; "cooldown"; "minLr"; "mode" ] @ warmup
          "warmup", [ "steps"; "epochs"; "start" ] ]

    /// Settings become libtorch Scalars applied to float32 weights: a larger value cannot be one.
    let largest = float System.Single.MaxValue

    /// A number as messages show it: shortest round-trip form, `1e-8` rather than `1E-08`.
    let show (x: float) =
        if System.Double.IsNaN x then "nan"
        elif System.Double.IsPositiveInfinity x then "infinity"
        elif System.Double.IsNegativeInfinity x then "-infinity"
        else
            let text = x.ToString("R", System.Globalization.CultureInfo.InvariantCulture)
            match text.Split 'E' with
            | [| mantissa; exponent |] -> sprintf "%se%d" mantissa (int exponent)
            | _ -> text

    /// `largest` as float32 writes it, 3.4028235e38 (its double is 3.4028234663852886e38).
    let private largestShown =
        let invariant = System.Globalization.CultureInfo.InvariantCulture
        show (System.Double.Parse(System.Single.MaxValue.ToString("R", invariant), invariant))

    let private describe value =
        match value with
        | Integer n -> string n
        | Real x -> show x
        | Flag b -> if b then "true" else "false"
        | Text s -> sprintf "\"%s\"" s
        | Other description -> description

    type private Bounds =
        | Positive
        | NonNegative
        /// [0, 1)
        | Fraction
        /// (0, 1]
        | Decay
        /// (0, 1)
        | Shrink
        /// [0, 1]
        | Share

    let private inBounds bounds x =
        match bounds with
        | Positive -> x > 0.0 && x <= largest
        | NonNegative -> x >= 0.0 && x <= largest
        | Fraction -> x >= 0.0 && x < 1.0
        | Decay -> x > 0.0 && x <= 1.0
        | Shrink -> x > 0.0 && x < 1.0
        | Share -> x >= 0.0 && x <= 1.0

    let private range bounds x =
        match bounds with
        | Positive | NonNegative when x > largest -> sprintf "at most %s (the largest float32)" largestShown
        | Positive -> "positive"
        | NonNegative -> "0 or more"
        | Fraction -> "in [0, 1)"
        | Decay -> "in (0, 1]"
        | Shrink -> "in (0, 1)"
        | Share -> "in [0, 1]"

    /// A rate of change of the weights, from anywhere (`subject` names it: "adam's lr", "--lr").
    let checkRate (subject: string) (x: float) : Result<float, string> =
        if inBounds Positive x then Ok x
        else Error(sprintf "%s must be %s, but it is %s" subject (range Positive x) (show x))

    type private ResultBuilder() =
        member _.Bind(r: Result<'a, 'e>, f: 'a -> Result<'b, 'e>) = Result.bind f r
        member _.Return v : Result<'a, 'e> = Ok v
        member _.ReturnFrom(r: Result<'a, 'e>) = r

    let private result = ResultBuilder()

    /// The options given to one optimizer or schedule, read by name and type, each against its rule.
    type private Given(owner: string, values: Map<string, SettingValue>) =
        let fail option message : Result<'T, SettingError list> = Error [ { Option = Some option; Message = sprintf "%s's %s %s" owner option message } ]

        member _.Has option = values.ContainsKey option

        member _.Fail option message : Result<'T, SettingError list> = fail option message

        member _.RealOr option bounds (fallback: float option) : Result<float option, SettingError list> =
            match Map.tryFind option values with
            | None -> Ok fallback
            | Some value ->
                let x =
                    match value with
                    | Integer n -> Some(float n)
                    | Real x -> Some x
                    | _ -> None
                match x with
                | None -> fail option (sprintf "must be a number, but it is %s" (describe value))
                | Some x when inBounds bounds x -> Ok(Some x)
                | Some x -> fail option (sprintf "must be %s, but it is %s" (range bounds x) (describe value))

        member this.Real option bounds fallback =
            this.RealOr option bounds (Some fallback) |> Result.map Option.get

        member _.IntOr option (least: int) : Result<int option, SettingError list> =
            match Map.tryFind option values with
            | None -> Ok None
            | Some(Integer n) when n >= least -> Ok(Some n)
            | Some(Integer n) -> fail option (sprintf "must be %s, but it is %d" (if least = 1 then "positive" else sprintf "%d or more" least) n)
            // 2.0 is not an integer here, and should not read as one.
            | Some(Real x) when System.Double.IsFinite x && x = floor x -> fail option (sprintf "must be an integer, but it is %s.0" (show x))
            | Some value -> fail option (sprintf "must be an integer, but it is %s" (describe value))

        member _.Flag option fallback : Result<bool, SettingError list> =
            match Map.tryFind option values with
            | None -> Ok fallback
            | Some(Flag b) -> Ok b
            | Some value -> fail option (sprintf "must be true or false, but it is %s" (describe value))

        member _.Text option : Result<string option, SettingError list> =
            match Map.tryFind option values with
            | None -> Ok None
            | Some(Text s) -> Ok(Some s)
            | Some value -> fail option (sprintf "must be a string, but it is %s" (describe value))

    let private whole message : Result<'T, SettingError list> = Error [ { Option = None; Message = message } ]

    /// The given options by name, once each, every name one of `owner`'s.
    let private known (kind: string) (table: (string * string list) list) (owner: string) (given: (string * SettingValue) seq) =
        match List.tryFind (fst >> (=) owner) table with
        | None ->
            let names = table |> List.map fst
            let hint =
                match Checked.suggest owner names with
                | Some near -> sprintf "did you mean '%s'? " near
                | None -> ""
            whole (sprintf "there is no %s '%s'; %sthe %ss are %s" kind owner hint kind (String.concat ", " names))
        | Some(_, options) ->
            let given = List.ofSeq given
            let unknown = given |> List.tryFind (fun (name, _) -> not (List.contains name options))
            let twice = given |> List.countBy fst |> List.tryFind (fun (_, n) -> n > 1)
            match unknown, twice with
            | Some(name, _), _ ->
                let hint =
                    match Checked.suggest name options with
                    | Some near -> sprintf "did you mean '%s'? " near
                    | None -> ""
                Error [ { Option = Some name; Message = sprintf "%s has no option '%s'; %sits options are %s" owner name hint (String.concat ", " options) } ]
            | None, Some(name, _) -> Error [ { Option = Some name; Message = sprintf "the option '%s' is given twice" name } ]
            | None, None -> Ok(Given(owner, Map.ofList given))

    /// Checks an optimizer's options (`adam`, [ "lr", Real 0.001 ]) and fills in the defaults.
    let optimizer (name: string) (given: (string * SettingValue) seq) : Result<OptimizerSettings, SettingError list> =
        result {
            let! o = known "optimizer" optimizers name given
            let adam = name = "adam" || name = "adamw"
            let! lr = o.Real "lr" Positive (if adam then 0.001 else 0.01)
            let! weightDecay = o.Real "weightDecay" NonNegative (if name = "adamw" then 0.01 else 0.0)
            let! l1 = o.Real "l1" NonNegative 0.0
            let! clipNorm = o.RealOr "clipNorm" Positive None
            let! clipValue = o.RealOr "clipValue" Positive None
            let! rule =
                match name with
                | "sgd" ->
                    result {
                        let! momentum = o.Real "momentum" Fraction 0.0
                        let! nesterov = o.Flag "nesterov" false
                        if nesterov && momentum = 0.0 then
                            return! o.Fail "nesterov" "needs momentum above 0"
                        else
                            return Sgd { Momentum = momentum; Nesterov = nesterov }
                    }
                | "rmsprop" ->
                    result {
                        let! alpha = o.Real "alpha" Fraction 0.99
                        let! eps = o.Real "eps" Positive 1e-8
                        let! momentum = o.Real "momentum" Fraction 0.0
                        return RmsProp { Alpha = alpha; Eps = eps; Momentum = momentum }
                    }
                | _ ->
                    result {
                        let! beta1 = o.Real "beta1" Fraction 0.9
                        let! beta2 = o.Real "beta2" Fraction 0.999
                        let! eps = o.Real "eps" Positive 1e-8
                        let settings = { Beta1 = beta1; Beta2 = beta2; Eps = eps }
                        return if name = "adam" then Adam settings else AdamW settings
                    }
            return
                { Rule = rule
                  Lr = lr
                  WeightDecay = weightDecay
                  L1 = l1
                  ClipNorm = clipNorm
                  ClipValue = clipValue }
        }

    let optimizerName (o: OptimizerSettings) =
        match o.Rule with
        | Sgd _ -> "sgd"
        | RmsProp _ -> "rmsprop"
        | Adam _ -> "adam"
        | AdamW _ -> "adamw"

    /// The same optimizer with another learning rate (`--lr`), checked by lr's rule.
    let withLr (lr: float) (o: OptimizerSettings) : Result<OptimizerSettings, SettingError list> =
        checkRate (sprintf "%s's lr" (optimizerName o)) lr
        |> Result.map (fun lr -> { o with Lr = lr })
        |> Result.mapError (fun message -> [ { Option = Some "lr"; Message = message } ])

    /// Checks a schedule's options (`cosine`, [ "epochs", Integer 20 ]) and fills in the defaults.
    let schedule (name: string) (given: (string * SettingValue) seq) : Result<ScheduleSettings, SettingError list> =
        result {
            let! s = known "schedule" schedules name given
            let! warmup =
                if name = "warmup" then
                    result {
                        let! steps = s.IntOr "steps" 1
                        let! epochs = s.IntOr "epochs" 1
                        let! start = s.Real "start" Share 0.1
                        match steps, epochs with
                        | Some _, Some _ -> return! s.Fail "epochs" "cannot be given with steps: the warm-up is counted in one or the other"
                        | Some n, None -> return Some { Length = WarmupSteps n; Start = start }
                        | None, Some n -> return Some { Length = WarmupEpochs n; Start = start }
                        | None, None -> return! whole "warmup needs its length: steps or epochs"
                    }
                else
                    result {
                        let! steps = s.IntOr "warmupSteps" 0
                        let! epochs = s.IntOr "warmupEpochs" 0
                        let! start = s.RealOr "warmupStart" Share None
                        match steps, epochs, start with
                        | Some _, Some _, _ -> return! s.Fail "warmupEpochs" "cannot be given with warmupSteps: the warm-up is counted in one or the other"
                        | None, None, Some _ -> return! s.Fail "warmupStart" "needs warmupSteps or warmupEpochs"
                        | Some n, None, start when n > 0 -> return Some { Length = WarmupSteps n; Start = defaultArg start 0.1 }
                        | None, Some n, start when n > 0 -> return Some { Length = WarmupEpochs n; Start = defaultArg start 0.1 }
                        | _ -> return None
                    }
            let required option (r: Result<'T option, SettingError list>) =
                r
                |> Result.bind (function
                    | Some v -> Ok v
                    | None -> whole (sprintf "%s needs %s" name option))
            let! rule =
                match name with
                | "stepDecay" ->
                    result {
                        let! every = s.IntOr "every" 1 |> required "every (the epochs between decays)"
                        let! gamma = s.Real "gamma" Decay 0.1
                        return StepDecay(every, gamma)
                    }
                | "exponential" ->
                    result {
                        let! gamma = s.RealOr "gamma" Decay None |> required "gamma (the factor per epoch)"
                        return Exponential gamma
                    }
                | "cosine" ->
                    result {
                        let! epochs = s.IntOr "epochs" 1 |> required "epochs (its length)"
                        let! minLr = s.Real "minLr" NonNegative 0.0
                        return Cosine(epochs, minLr)
                    }
                | "plateau" ->
                    result {
                        let! factor = s.Real "factor" Shrink 0.1
                        let! patience = s.IntOr "patience" 0
                        let! minDelta = s.Real "minDelta" NonNegative 0.0
                        let! cooldown = s.IntOr "cooldown" 0
                        let! minLr = s.Real "minLr" NonNegative 0.0
                        let! mode =
                            s.Text "mode"
                            |> Result.bind (function
                                | None
                                | Some "min" -> Ok Min
                                | Some "max" -> Ok Max
                                | Some other -> s.Fail "mode" (sprintf "must be \"min\" or \"max\", but it is \"%s\"" other))
                        return
                            Plateau
                                { Factor = factor
                                  Patience = defaultArg patience 10
                                  MinDelta = minDelta
                                  Cooldown = defaultArg cooldown 0
                                  MinLr = minLr
                                  Mode = mode }
                    }
                | _ -> Ok Constant
            return { Rule = rule; Warmup = warmup }
        }

    /// The language's name for a schedule (`constant` for none).
    let scheduleName (s: ScheduleSettings) =
        match s.Rule, s.Warmup with
        | Constant, None -> "constant"
        | Constant, Some _ -> "warmup"
        | StepDecay _, _ -> "stepDecay"
        | Exponential _, _ -> "exponential"
        | Cosine _, _ -> "cosine"
        | Plateau _, _ -> "plateau"

    /// No schedule: the optimizer's rate throughout.
    let constant = { Rule = Constant; Warmup = None }

    /// Whether a schedule suits the rate it starts from: a cosine schedule cannot end above it.
    let fitsRate (lr: float) (s: ScheduleSettings) : Result<unit, SettingError list> =
        match s.Rule with
        | Cosine(_, minLr) when minLr > lr ->
            Error [ { Option = Some "minLr"; Message = sprintf "cosine's minLr (%s) is above the learning rate (%s)" (show minLr) (show lr) } ]
        | _ -> Ok()

    let private written name (options: (string * string) list) =
        match options with
        | [] -> name
        | options -> sprintf "%s (%s)" name (options |> List.map (fun (k, v) -> sprintf "%s = %s" k v) |> String.concat ", ")

    /// The optimizer as the language writes it, every setting spelled out: `adam (lr = 0.001, ...)`.
    let describeOptimizer (o: OptimizerSettings) =
        let own =
            match o.Rule with
            | Sgd s -> [ "momentum", show s.Momentum ] @ (if s.Nesterov then [ "nesterov", "true" ] else [])
            | RmsProp r -> [ "alpha", show r.Alpha; "eps", show r.Eps; "momentum", show r.Momentum ]
            | Adam a
            | AdamW a -> [ "beta1", show a.Beta1; "beta2", show a.Beta2; "eps", show a.Eps ]
        let optional name value = value |> Option.map (fun v -> name, show v) |> Option.toList
        written
            (optimizerName o)
            ([ "lr", show o.Lr ] @ own @ [ "weightDecay", show o.WeightDecay ]
             @ (if o.L1 = 0.0 then [] else [ "l1", show o.L1 ])
             @ optional "clipNorm" o.ClipNorm
             @ optional "clipValue" o.ClipValue)

    /// The schedule as the language writes it: `cosine (epochs = 20, minLr = 0, warmupEpochs = 1, ...)`.
    let describeSchedule (s: ScheduleSettings) =
        let own =
            match s.Rule with
            | Constant -> []
            | StepDecay(every, gamma) -> [ "every", string every; "gamma", show gamma ]
            | Exponential gamma -> [ "gamma", show gamma ]
            | Cosine(epochs, minLr) -> [ "epochs", string epochs; "minLr", show minLr ]
            | Plateau p ->
                [ "factor", show p.Factor
                  "patience", string p.Patience
                  "minDelta", show p.MinDelta
                  "cooldown", string p.Cooldown
                  "minLr", show p.MinLr
                  "mode", (match p.Mode with Min -> "\"min\"" | Max -> "\"max\"") ]
        let warmup =
            match s.Rule, s.Warmup with
            | _, None -> []
            | Constant, Some w ->
                (match w.Length with WarmupSteps n -> [ "steps", string n ] | WarmupEpochs n -> [ "epochs", string n ]) @ [ "start", show w.Start ]
            | _, Some w ->
                (match w.Length with WarmupSteps n -> [ "warmupSteps", string n ] | WarmupEpochs n -> [ "warmupEpochs", string n ])
                @ [ "warmupStart", show w.Start ]
        written (scheduleName s) (own @ warmup)
