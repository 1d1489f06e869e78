import { Bare } from "../shared/layout";

export function LoginPage(props: { error?: string }) {
  return (
    <Bare title="Sign in">
      <form method="post" action="/login" class="card login">
        <h1>kiro-server</h1>
        <p class="muted">Paste the admin token printed when the server started (or open the login link from the log).</p>
        {props.error ? <p class="error" role="alert" safe>{props.error}</p> : ""}
        <input type="text" name="username" value="admin" autocomplete="username" hidden />
        <label>Admin token <input type="password" name="token" autocomplete="current-password" required autofocus /></label>
        <button type="submit">Sign in</button>
      </form>
    </Bare>
  );
}
