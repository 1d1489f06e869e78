import { Bare, LangSwitch } from "../shared/layout";
import type { Tr } from "../shared/i18n/tr";

export function LoginPage(props: { tr: Tr; error?: string }) {
  const t = props.tr.t;
  return (
    <Bare tr={props.tr} title={t("login.title")}>
      <form method="post" action="/login" class="card login">
        <div class="login-head"><h1>kiro-server</h1><LangSwitch tr={props.tr} here="/login" /></div>
        <p class="muted" safe>{t("login.help")}</p>
        {props.error ? <p class="error" role="alert" safe>{props.error}</p> : ""}
        <input type="text" name="username" value="admin" autocomplete="username" hidden />
        <label><span safe>{t("login.token")}</span> <input type="password" name="token" autocomplete="current-password" required autofocus /></label>
        <button type="submit" safe>{t("login.submit")}</button>
      </form>
    </Bare>
  );
}
