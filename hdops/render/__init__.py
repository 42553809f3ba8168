"""Pure renderers: domain data in, neutral `hdops.chat` messages out. All user-facing
wording lives here. Renderers never touch the database."""
